// A tiny pass/fail tally for the plugin tests; ends with a ctest-readable summary line.
#pragma once

#include <cstdio>
#include <string>

namespace sketchrt::plugin::test {

struct Tally {
    int passed = 0;
    int failed = 0;
    bool check(bool ok, std::string const& what) {
        if (ok) {
            ++passed;
        } else {
            ++failed;
            std::printf("FAIL: %s\n", what.c_str());
        }
        return ok;
    }
    // An error message is expected: it must be non-empty and mention `needle`.
    bool checkError(std::string const& error, std::string const& needle, std::string const& what) {
        bool const ok = !error.empty() && error.find(needle) != std::string::npos;
        return check(ok, what + " (got: \"" + error + "\", expected it to mention \"" + needle + "\")");
    }
    int finish(char const* suite) const {
        std::printf("%s: %d passed, %d failed\n", suite, passed, failed);
        return failed == 0 ? 0 : 1;
    }
};

}  // namespace sketchrt::plugin::test
