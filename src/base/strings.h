// Small string helpers shared by every stage: quoting input for messages, number formatting,
// splitting. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace moat {

// Quotes `s` for an error message: wrapped in double quotes, non-printable bytes as \xHH,
// cut to `max_len` bytes with "..." so that a 10 MB field never floods a message.
std::string Quote(std::string_view s, size_t max_len = 40);

// 1234567 -> "1,234,567".
std::string WithThousands(uint64_t n);

// Splits on `sep`; "\<sep>" escapes a separator (MOAT_* list variables). Empty items dropped.
std::vector<std::string> SplitEscaped(std::string_view s, char sep);

bool StartsWith(std::string_view s, std::string_view prefix);
// ASCII case-insensitive equality (host names, identifiers).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool EndsWith(std::string_view s, std::string_view suffix);

// Unix seconds -> "2024-05-01T00:00:00Z".
std::string FormatUtc(int64_t unix_seconds);

}  // namespace moat
