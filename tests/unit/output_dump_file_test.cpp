// DumpFile: a dump is never half there, never world-readable, never silently replaced.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <vector>

#include "output/dump_file.h"

using namespace dumpscope;

namespace {

struct Dir {
    std::string path;
    Dir() {
        char pattern[] = "/tmp/ds-dumpfile-XXXXXX";
        path = ::mkdtemp(pattern);
    }
    ~Dir() { std::system(("rm -rf " + path).c_str()); }
    int count() const {
        int n = 0;
        for (const auto& e : list()) n += !e.empty();
        return n;
    }
    std::vector<std::string> list() const {
        std::vector<std::string> names;
        FILE* p = ::popen(("ls -A " + path).c_str(), "r");
        char line[512];
        while (std::fgets(line, sizeof line, p)) {
            std::string s = line;
            s.pop_back();
            names.push_back(s);
        }
        ::pclose(p);
        return names;
    }
};

TEST(DumpFile, CommitRenamesWithMode0600AndNothingElseLeft) {
    Dir dir;
    const std::string path = dir.path + "/a.dmp";
    ::umask(0);
    {
        auto f = DumpFile::create(path, false);
        ASSERT_TRUE(f.ok()) << f.error().message;
        const uint8_t bytes[] = {'M', 'D', 'M', 'P'};
        ASSERT_TRUE(f->write_at(0, bytes).ok());
        ASSERT_TRUE(f->commit(4).ok());
    }
    ::umask(022);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_EQ(st.st_size, 4);
    EXPECT_EQ(dir.count(), 1);
}

TEST(DumpFile, DestroyedWithoutCommitLeavesNoFile) {
    Dir dir;
    {
        auto f = DumpFile::create(dir.path + "/b.dmp", false);
        ASSERT_TRUE(f.ok());
        const uint8_t bytes[] = {1, 2, 3};
        ASSERT_TRUE(f->write_at(0, bytes).ok());
        EXPECT_EQ(dir.count(), 1);  // the temporary
    }
    EXPECT_EQ(dir.count(), 0);
}

TEST(DumpFile, ExistingFileNeedsOverwrite) {
    Dir dir;
    const std::string path = dir.path + "/c.dmp";
    std::ofstream(path) << "old";
    EXPECT_FALSE(DumpFile::create(path, false).ok());
    auto f = DumpFile::create(path, true);
    ASSERT_TRUE(f.ok());
    const uint8_t bytes[] = {'n', 'e', 'w', '!'};
    ASSERT_TRUE(f->write_at(0, bytes).ok());
    ASSERT_TRUE(f->commit(4).ok());
    std::ifstream in(path);
    std::string text;
    in >> text;
    EXPECT_EQ(text, "new!");
}

TEST(DumpFile, ZeroPagesBecomeHoles) {
    Dir dir;
    const std::string path = dir.path + "/d.dmp";
    std::vector<uint8_t> data(64 << 20, 0);  // 64 MiB, one non-zero page in the middle
    data[32 << 20] = 7;
    auto f = DumpFile::create(path, false);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(f->write_sparse_at(4096, data).ok());
    ASSERT_TRUE(f->commit(4096 + data.size()).ok());
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(static_cast<size_t>(st.st_size), 4096 + data.size());
    EXPECT_LT(st.st_blocks * 512, 1 << 20);  // far less than 64 MiB on disk
    std::ifstream in(path, std::ios::binary);
    in.seekg(4096 + (32 << 20));
    EXPECT_EQ(in.get(), 7);
}

TEST(DumpFile, StaleTemporaryOfADeadWriterIsCleanedUp) {
    Dir dir;
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);  // a pid that is certainly dead now
    const std::string stale = dir.path + "/.dumpscope-tmp." + std::to_string(child) + ".1234.x.dmp";
    std::ofstream(stale) << "half";
    const std::string live =
        dir.path + "/.dumpscope-tmp." + std::to_string(::getpid()) + ".1.y.dmp";
    std::ofstream(live) << "ours";
    clean_stale_temporaries(dir.path);
    struct stat st {};
    EXPECT_NE(::stat(stale.c_str(), &st), 0);
    EXPECT_EQ(::stat(live.c_str(), &st), 0);
}

}  // namespace
