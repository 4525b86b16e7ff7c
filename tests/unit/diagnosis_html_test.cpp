// The HTML report's text handling and charts: any bytes from a dump become valid UTF-8 that
// cannot open a tag or end an attribute, and a chart has one bar per row scaled to the largest.
#include <gtest/gtest.h>

#include <regex>

#include "diagnosis/html_chart.h"
#include "diagnosis/html_text.h"

using namespace dumpscope::diagnosis;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";

// True if `text` is well-formed UTF-8, decoded here independently of html_text.cpp's table: every
// sequence is a code point below 0x110000, outside the surrogates, in its shortest form.
bool well_formed(const std::string& text) {
    size_t i = 0;
    while (i < text.size()) {
        const auto b = static_cast<unsigned char>(text[i]);
        size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > text.size()) return false;
        uint32_t cp = n == 1 ? b : b & (0x7F >> n);
        for (size_t k = 1; k < n; ++k) {
            const auto c = static_cast<unsigned char>(text[i + k]);
            if ((c & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (c & 0x3F);
        }
        const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += n;
    }
    return true;
}

TEST(HtmlText, EscapesMarkupAndQuotes) {
    EXPECT_EQ(html_text("</pre><script>alert('x')</script>&\"y\""),
              "&lt;/pre&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;y&quot;");
    EXPECT_EQ(html_text("plain text, tab\tand newline\n"), "plain text, tab\tand newline\n");
    EXPECT_EQ(html_text("caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x90\x9B"),
              "caf\xC3\xA9 \xE2\x86\x92 \xF0\x9F\x90\x9B");  // valid UTF-8 is kept
}

TEST(HtmlText, IllFormedUtf8BecomesReplacementCharacters) {
    // One U+FFFD per maximal ill-formed subsequence (Unicode's recommended practice).
    EXPECT_EQ(valid_utf8("a\xFF"
                         "b"),
              "a" + kFffd + "b");  // never a lead byte
    EXPECT_EQ(valid_utf8("a\x80\x80"
                         "b"),
              "a" + kFffd + kFffd + "b");  // stray continuations
    EXPECT_EQ(valid_utf8("a\xE2\x82"
                         "b"),
              "a" + kFffd + "b");                                  // truncated 3-byte form
    EXPECT_EQ(valid_utf8("\xE2\x82"), kFffd);                      // truncated at the end
    EXPECT_EQ(valid_utf8("\xC0\xAF"), kFffd + kFffd);              // overlong '/'
    EXPECT_EQ(valid_utf8("\xE0\x80\xAF"), kFffd + kFffd + kFffd);  // overlong, 3 bytes
    EXPECT_EQ(valid_utf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);  // a surrogate
    EXPECT_EQ(valid_utf8("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // > U+10FFFF
    EXPECT_EQ(valid_utf8("\xF0\x9F\x90"), kFffd);  // truncated 4-byte form
}

TEST(HtmlText, ControlsShowAsControlPicturesAndBidiOverridesAreRemoved) {
    EXPECT_EQ(valid_utf8(std::string("a\0b", 3)),
              "a\xE2\x90\x80"
              "b");                                         // U+2400
    EXPECT_EQ(valid_utf8("\x1b[31m"), "\xE2\x90\x9B[31m");  // U+241B
    EXPECT_EQ(valid_utf8("\x7f"), "\xE2\x90\xA1");          // U+2421
    EXPECT_EQ(valid_utf8("a\xE2\x80\xAE"
                         "b"),
              "a" + kFffd + "b");  // U+202E
    EXPECT_EQ(valid_utf8("a\xE2\x81\xA6"
                         "b"),
              "a" + kFffd + "b");  // U+2066
}

TEST(HtmlText, EveryByteStringComesOutWellFormedAndWithoutMarkup) {
    // Every single byte, every pair of bytes, and pseudo-random strings.
    std::vector<std::string> inputs;
    for (int a = 0; a < 256; ++a) {
        for (int b = 0; b < 256; ++b)
            inputs.push_back({static_cast<char>(a), static_cast<char>(b)});
    }
    uint64_t state = 0x9E3779B97F4A7C15ull;
    for (int n = 0; n < 20000; ++n) {
        std::string s;
        const size_t length = n % 13;
        for (size_t i = 0; i < length; ++i) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            s += static_cast<char>(state >> 56);
        }
        inputs.push_back(s);
    }
    for (const std::string& input : inputs) {
        const std::string out = html_text(input);
        ASSERT_TRUE(well_formed(out)) << testing::PrintToString(input);
        ASSERT_EQ(out.find_first_of("<>\"'"), std::string::npos) << testing::PrintToString(input);
        for (char c : out) {
            const auto u = static_cast<unsigned char>(c);
            ASSERT_TRUE(u >= 0x20 || c == '\t' || c == '\n') << testing::PrintToString(input);
            ASSERT_NE(u, 0x7F);
        }
    }
}

TEST(HtmlText, ShortenCutsAtCodePoints) {
    EXPECT_EQ(shorten_utf8("abc", 3), "abc");
    EXPECT_EQ(shorten_utf8("abcd", 3), "abc\xE2\x80\xA6");
    EXPECT_EQ(shorten_utf8("\xC3\xA9\xC3\xA9\xC3\xA9", 2), "\xC3\xA9\xC3\xA9\xE2\x80\xA6");
}

// The bars of a chart: the width attribute of every rect of class "bar" (legend excluded).
std::vector<double> bar_widths(const std::string& svg) {
    std::vector<double> widths;
    const std::regex bar(R"re(<rect class="bar" x="\d+" y="(\d+)" width="([0-9.]+)")re");
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), bar); it != std::sregex_iterator();
         ++it) {
        if ((*it)[1] == "5") continue;  // the legend's swatch
        widths.push_back(std::stod((*it)[2]));
    }
    return widths;
}

TEST(HtmlChart, BarsAreScaledToTheLargestAndLabelsEscaped) {
    BarChart chart{"Memory <by> usage", "size", "in the dump", {}};
    chart.rows.push_back({"Heap", 400, 100, "400 B", ""});
    chart.rows.push_back({"<img src=x onerror=alert(1)>", 100, 0, "100 B", "t\xFF"});
    chart.rows.push_back({"Tiny", 1, 0, "1 B", ""});
    const std::string svg = bar_chart_svg(chart);
    const auto widths = bar_widths(svg);
    ASSERT_EQ(widths.size(), 3u) << svg;
    EXPECT_GT(widths[0], 0);
    EXPECT_DOUBLE_EQ(widths[1] * 4, widths[0]);
    EXPECT_GE(widths[2], 1.0);  // a non-zero value stays visible
    EXPECT_EQ(svg.find("<img"), std::string::npos);
    EXPECT_NE(svg.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
    EXPECT_NE(svg.find("aria-label=\"Memory &lt;by&gt; usage\""), std::string::npos);
    EXPECT_NE(svg.find("t" + kFffd), std::string::npos);  // the tooltip's byte was repaired
    EXPECT_NE(svg.find("class=\"bar-part\""), std::string::npos);
    EXPECT_TRUE(well_formed(svg));
}

TEST(HtmlChart, LongLabelsAreShortenedWithTheFullTextInTheTooltip) {
    const std::string name(80, 'n');
    BarChart chart{"t", "v", "", {{name, 5, 0, "5", ""}}};
    const std::string svg = bar_chart_svg(chart);
    EXPECT_NE(svg.find("<title>" + name + "</title>"), std::string::npos) << svg;
    EXPECT_NE(svg.find(">" + std::string(36, 'n') + "\xE2\x80\xA6</text>"), std::string::npos)
        << svg;
}

TEST(HtmlChart, NoRowsNoChart) { EXPECT_EQ(bar_chart_svg(BarChart{"t", "v", "", {}}), ""); }

}  // namespace
