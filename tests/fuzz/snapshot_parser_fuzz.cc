// libFuzzer target: arbitrary bytes → parse_snapshot → (on success) encode_snapshot.
//
// Beyond the sanitizers, it checks what the writer relies on: every encoded
// row ends in exactly one newline, has exactly the copy_layout column count,
// holds no NUL byte, and the row counts match the Record's counts; every
// error names a field or a limit (or is about the whole input) and says why.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/check.h"
#include "daemon/copy_layout.h"
#include "daemon/encoder.h"
#include "daemon/snapshot_parser.h"

namespace {

std::size_t column_count(std::string_view layout) {
  std::size_t n = 1;
  for (char c : layout) n += c == ',' ? 1 : 0;
  return n;
}

// Checks `rows` holds `expected_rows` COPY lines of `columns` columns each.
void check_rows(std::string_view rows, std::size_t expected_rows, std::size_t columns) {
  std::size_t lines = 0;
  std::size_t tabs = 0;
  for (char c : rows) {
    XRAY_CHECK(c != '\0');  // snapshot.h invariant 1
    if (c == '\t') ++tabs;
    if (c == '\n') {
      XRAY_CHECK(tabs == columns - 1);  // an unescaped tab or newline would shift columns
      tabs = 0;
      ++lines;
    }
  }
  XRAY_CHECK(rows.empty() || rows.back() == '\n');
  XRAY_CHECK(lines == expected_rows);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Small limits, so that inputs of a few hundred bytes reach every limit.
  xrayd::SnapshotLimits limits;
  limits.max_steps = 8;
  limits.max_evaluations = 16;
  limits.max_json_depth = 12;
  limits.max_string_bytes = 256;

  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto snapshot = xrayd::parse_snapshot(text, limits);
  if (!snapshot) {
    const xray::InputError& e = snapshot.error();
    XRAY_CHECK(!e.message.empty());
    XRAY_CHECK(e.code == xray::Errc::kInvalidJson || e.code == xray::Errc::kInvalidSnapshot ||
               e.code == xray::Errc::kLimitExceeded);
    XRAY_CHECK(e.code != xray::Errc::kLimitExceeded || !e.field.empty());
    return 0;
  }
  xrayd::Record record;
  xrayd::encode_snapshot(*snapshot, record);
  check_rows(record.execution_row, 1, column_count(xrayd::copy_layout::kExecutionColumns));
  check_rows(record.step_rows, record.step_count, column_count(xrayd::copy_layout::kStepColumns));
  check_rows(record.evaluation_rows, record.evaluation_count,
             column_count(xrayd::copy_layout::kEvaluationColumns));
  XRAY_CHECK(record.step_count <= limits.max_steps);
  return 0;
}
