// Damages a text the way the differential tests of the fast paths do: one to three edits, each
// replacing, inserting or deleting one character drawn from alphabet.
#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <string_view>

namespace test_support {

inline std::string mutated(std::string text, std::mt19937& random, std::string_view alphabet) {
  for (int edits = 1 + static_cast<int>(random() % 3); edits > 0; --edits) {
    const std::size_t at = random() % (text.size() + 1);
    const char c = alphabet[random() % alphabet.size()];
    switch (random() % 3) {
      case 0:
        if (at < text.size()) text[at] = c;
        break;
      case 1:
        text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
        break;
      default:
        if (at < text.size()) text.erase(at, 1);
    }
  }
  return text;
}

}  // namespace test_support
