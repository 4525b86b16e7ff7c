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

std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::string text;
    std::getline(in, text);
    return text;
}

std::string link_target(const std::string& path) {
    char buf[512];
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    return n < 0 ? std::string() : std::string(buf, static_cast<size_t>(n));
}

TEST(DumpFile, DeviceNodeIsNeverReplacedEvenWithOverwrite) {
    for (bool overwrite : {false, true}) {
        auto f = DumpFile::create("/dev/null", overwrite);
        ASSERT_FALSE(f.ok());
        EXPECT_NE(f.error().message.find("character device"), std::string::npos)
            << f.error().message;
    }
    struct stat st {};
    ASSERT_EQ(::lstat("/dev/null", &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
}

TEST(DumpFile, FifoIsNeverReplacedEvenWithOverwrite) {
    Dir dir;
    const std::string path = dir.path + "/fifo.dmp";
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    auto f = DumpFile::create(path, true);
    ASSERT_FALSE(f.ok());
    EXPECT_NE(f.error().message.find("FIFO"), std::string::npos) << f.error().message;
    struct stat st {};
    ASSERT_EQ(::lstat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(dir.count(), 1);  // no temporary left
}

TEST(DumpFile, SymlinkIsNeitherFollowedNorReplaced) {
    Dir dir;
    const std::string target = dir.path + "/target.txt";
    std::ofstream(target) << "target";
    const std::string link = dir.path + "/link.dmp";
    ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
    const std::string dangling = dir.path + "/dangling.dmp";
    ASSERT_EQ(::symlink((dir.path + "/nowhere").c_str(), dangling.c_str()), 0);
    for (const std::string& path : {link, dangling}) {
        auto f = DumpFile::create(path, true);
        ASSERT_FALSE(f.ok()) << path;
        EXPECT_NE(f.error().message.find("symbolic link"), std::string::npos) << f.error().message;
    }
    EXPECT_EQ(link_target(link), target);
    EXPECT_EQ(link_target(dangling), dir.path + "/nowhere");
    EXPECT_EQ(read_text(target), "target");
    EXPECT_EQ(dir.count(), 3);
}

// The name is checked again at commit: what appeared there during the dump is put back.
TEST(DumpFile, EntryThatBecameAFifoOrSymlinkDuringTheDumpSurvivesCommit) {
    Dir dir;
    const std::string target = dir.path + "/target.txt";
    std::ofstream(target) << "target";
    const std::string path = dir.path + "/d.dmp";
    for (bool make_fifo : {true, false}) {
        std::ofstream(path) << "old";
        auto f = DumpFile::create(path, true);
        ASSERT_TRUE(f.ok()) << f.error().message;
        ASSERT_EQ(::unlink(path.c_str()), 0);
        if (make_fifo)
            ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
        else
            ASSERT_EQ(::symlink(target.c_str(), path.c_str()), 0);
        const uint8_t bytes[] = {'n', 'e', 'w', '!'};
        ASSERT_TRUE(f->write_at(0, bytes).ok());
        Status committed = f->commit(4);
        EXPECT_FALSE(committed.ok());
        struct stat st {};
        ASSERT_EQ(::lstat(path.c_str(), &st), 0);
        EXPECT_TRUE(make_fifo ? S_ISFIFO(st.st_mode) : S_ISLNK(st.st_mode));
        EXPECT_EQ(read_text(target), "target");
        ASSERT_EQ(::unlink(path.c_str()), 0);
    }
    EXPECT_EQ(dir.count(), 1);  // target.txt only: no temporary left
}

// A file created at the name during a dump without --overwrite is not replaced either.
TEST(DumpFile, RegularFileIsReplacedAtCommitOnlyWithOverwrite) {
    Dir dir;
    const std::string path = dir.path + "/e.dmp";
    const uint8_t bytes[] = {'n', 'e', 'w', '!'};
    {
        auto f = DumpFile::create(path, false);
        ASSERT_TRUE(f.ok());
        std::ofstream(path) << "appeared";
        ASSERT_TRUE(f->write_at(0, bytes).ok());
        EXPECT_FALSE(f->commit(4).ok());
    }
    EXPECT_EQ(read_text(path), "appeared");
    auto g = DumpFile::create(path, true);
    ASSERT_TRUE(g.ok());
    ASSERT_TRUE(g->write_at(0, bytes).ok());
    ASSERT_TRUE(g->commit(4).ok());
    EXPECT_EQ(read_text(path), "new!");
    EXPECT_EQ(dir.count(), 1);
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

namespace {

// A compressed DumpFile: the writers' order (head last, memory in order, a record at the end)
// gives a zstd stream the zstd CLI decompresses to the plain bytes, renamed into place with
// mode 0600; writing memory out of order fails and leaves nothing behind.
TEST(DumpFile, CompressedDumpDecompressesToThePlainBytes) {
    Dir dir;
    const std::string path = dir.path + "/d.core.zst";
    std::vector<uint8_t> plain(9 << 20, 0);
    for (size_t i = 8192; i < plain.size(); i += 3) plain[i] = static_cast<uint8_t>(i / 4096);
    std::fill(plain.begin() + (3 << 20), plain.begin() + (6 << 20), 0);
    for (size_t i = 0; i < 8192; ++i) plain[i] = static_cast<uint8_t>(i * 13 + 1);
    {
        auto file = DumpFile::create(path, false, 1);
        ASSERT_TRUE(file.ok()) << file.error().message;
        EXPECT_TRUE(file->compressed());
        ASSERT_TRUE(file->declare_head(8192).ok());
        const std::span<const uint8_t> all(plain);
        ASSERT_TRUE(file->write_at(4096, all.subspan(4096, 4096)).ok());  // notes first
        ASSERT_TRUE(file->write_sparse_at(8192, all.subspan(8192, (8 << 20) - 8192)).ok());
        ASSERT_TRUE(file->write_at(8 << 20, all.subspan(8 << 20)).ok());  // the record
        ASSERT_TRUE(file->write_at(0, all.first(4096)).ok());             // the header, last
        ASSERT_TRUE(file->commit(plain.size()).ok());
    }
    EXPECT_EQ(dir.list(), std::vector<std::string>{"d.core.zst"});
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    EXPECT_LT(static_cast<size_t>(st.st_size), plain.size() / 2);
    ASSERT_EQ(std::system(("zstd -q -d " + path + " -o " + dir.path + "/d.core").c_str()), 0);
    std::ifstream in(dir.path + "/d.core", std::ios::binary);
    const std::vector<uint8_t> back((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(back, plain);

    Dir other;
    {
        auto file = DumpFile::create(other.path + "/bad.dmp.zst", false, 1);
        ASSERT_TRUE(file.ok());
        ASSERT_TRUE(file->declare_head(4096).ok());
        std::vector<uint8_t> bytes(100, 7);
        ASSERT_TRUE(file->write_at(9 << 20, bytes).ok());
        Status s = file->write_at(1 << 20, bytes);  // a frame already compressed
        ASSERT_FALSE(s.ok());
        EXPECT_NE(s.error().message.find("bad.dmp.zst"), std::string::npos) << s.error().message;
        EXPECT_FALSE(file->declare_head(4096).ok());
    }
    EXPECT_EQ(other.count(), 0);
}

}  // namespace
