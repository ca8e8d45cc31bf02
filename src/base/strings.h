// Small string helpers shared by every stage: quoting input for messages, number formatting,
// splitting. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

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

// Strict decimal integers, for numbers that come from outside (AWS answers, headers): the whole
// of `s` is digits, with one leading '-' for ParseInt, and the value lies within [min, max].
// Anything else is nullopt: "", "+1", " 1", "1 ", "12abc", "0x1f", "1e3", "1.0", overflow.
std::optional<int64_t> ParseInt(std::string_view s, int64_t min = std::numeric_limits<int64_t>::min(),
                                int64_t max = std::numeric_limits<int64_t>::max());
std::optional<uint64_t> ParseUint(std::string_view s, uint64_t max = std::numeric_limits<uint64_t>::max());

// "2026-11-01" or "2026-11-01T12:00:00Z" (also with fractional seconds, "...:00.123Z", which are
// dropped) -> unix seconds; nullopt for anything else.
std::optional<int64_t> ParseUtc(std::string_view s);

// Unix seconds -> "2024-05-01T00:00:00Z".
std::string FormatUtc(int64_t unix_seconds);

// The start of a time window such as `--since 7d`, in unix seconds: `30m`, `12h`, `7d`, `2w`
// before `now`; a UTC date `2026-11-01` (its midnight) or time `2026-11-01T12:00:00Z`; or `all`
// (0: no limit). Anything else is an invalid-input error quoting `text`.
Result<int64_t> ParseSince(std::string_view text, int64_t now);

}  // namespace moat
