// UTF-8 validation for text that arrives as raw bytes (binary envelopes), so free text that
// reaches JSON answers and receipts is always valid UTF-8, as it is when it arrives as JSON.
#pragma once

#include <string_view>

namespace state {

// Well-formed UTF-8 as RFC 3629 defines it: no overlong forms, no surrogates (U+D800-U+DFFF),
// nothing above U+10FFFF, no truncated sequence.
bool is_valid_utf8(std::string_view text);

}  // namespace state
