// A test suite whose tests share one running fixture_waiters (started once per suite, killed at
// its end) and dump it into a directory of their own. Base is ::testing::Test or a
// ::testing::TestWithParam<...>.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "support.h"

namespace test_support {

template <typename Base = ::testing::Test>
class SharedWaiters : public Base {
protected:
    static void SetUpTestSuite() { fixture_ = new Fixture("fixture_waiters"); }
    static void TearDownTestSuite() {
        delete fixture_;
        fixture_ = nullptr;
    }
    // A dump of the fixture: DIR/TYPE.dmp or DIR/TYPE.core (written from a clone:
    // DIR/TYPE-clone.*).
    std::string collect(const std::string& type, const std::string& format, bool clone = false) {
        return collect_into(dir_.path(), fixture_->pid(), type, format, clone);
    }
    // The tid of thread `index` (0: the main thread, 1-3: the waiters).
    int tid(int index) const { return fixture_->info().at("tids").at(index).template get<int>(); }

    inline static Fixture* fixture_ = nullptr;
    TempDir dir_;
};

}  // namespace test_support
