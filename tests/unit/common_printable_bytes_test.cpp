// printable_bytes: valid UTF-8 as it is, every other byte and control character as \xHH, a
// backslash as \\; bytes_from_printable gives the bytes back.
#include <gtest/gtest.h>

#include <string>

#include "common/printable_bytes.h"

namespace dumpscope {
namespace {

TEST(PrintableBytes, ValidUtf8IsKeptAndEverythingElseEscaped) {
    EXPECT_EQ(printable_bytes("fixture_waiters"), "fixture_waiters");
    EXPECT_EQ(printable_bytes("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
              "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    EXPECT_EQ(printable_bytes("odd\xff\xfe"), "odd\\xff\\xfe");
    EXPECT_EQ(printable_bytes("a\nb\tc\x7f"), "a\\x0ab\\x09c\\x7f");
    EXPECT_EQ(printable_bytes("C:\\dir"), "C:\\\\dir");
    EXPECT_EQ(printable_bytes(std::string("a\0b", 3)), "a\\x00b");
    // Overlong forms, surrogates, a truncated sequence and code points past U+10FFFF.
    EXPECT_EQ(printable_bytes("\xc0\xaf"), "\\xc0\\xaf");
    EXPECT_EQ(printable_bytes("\xed\xa0\x80"), "\\xed\\xa0\\x80");
    EXPECT_EQ(printable_bytes("\xe2\x82"), "\\xe2\\x82");
    EXPECT_EQ(printable_bytes("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
}

TEST(PrintableBytes, EveryByteComesBack) {
    std::string all;
    for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
    all += "\\x41 \\\\ \xc3\xa9";
    EXPECT_EQ(bytes_from_printable(printable_bytes(all)), all);
    EXPECT_EQ(bytes_from_printable("plain \\q \\x4"), "plain \\q \\x4");
}

}  // namespace
}  // namespace dumpscope
