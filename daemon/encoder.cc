#include "daemon/encoder.h"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <boost/json/value.hpp>

#include "daemon/check.h"

namespace xrayd {
namespace {

namespace json = boost::json;

constexpr std::string_view kNull = "\\N";

// COPY text escaping: the delimiter (tab), the row end (newline), carriage
// return and the escape character itself. Every other byte may go raw; the
// end-of-data marker `\.` cannot appear because every backslash is doubled.
void append_escaped(std::string& out, std::string_view s) {
  const char* run = s.data();
  const char* end = s.data() + s.size();
  for (const char* p = run; p != end; ++p) {
    char replacement = 0;
    switch (*p) {
      case '\\':
        replacement = '\\';
        break;
      case '\n':
        replacement = 'n';
        break;
      case '\r':
        replacement = 'r';
        break;
      case '\t':
        replacement = 't';
        break;
      default:
        continue;
    }
    out.append(run, static_cast<std::size_t>(p - run));
    out.push_back('\\');
    out.push_back(replacement);
    run = p + 1;
  }
  out.append(run, static_cast<std::size_t>(end - run));
}

template <class Number>
void append_number(std::string& out, Number n) {
  char digits[32];
  // Shortest text that reads back as the same value: 4.6 stays "4.6", 1e300 is "1e+300".
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  XRAY_DCHECK(ec == std::errc());  // 32 bytes hold any 64-bit integer or shortest double
  out.append(digits, static_cast<std::size_t>(end - digits));
}

// A JSON string literal, already COPY-escaped. JSON escapes every control
// character, so the text never holds a raw tab, newline or carriage return;
// the COPY level only doubles each backslash that JSON writes.
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  const char* run = s.data();
  const char* end = s.data() + s.size();
  for (const char* p = run; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(run, static_cast<std::size_t>(p - run));
    run = p + 1;
    out.append("\\\\");  // JSON's backslash, doubled for COPY
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\r':
        out.push_back('r');
        break;
      case '\t':
        out.push_back('t');
        break;
      case '\b':
        out.push_back('b');
        break;
      case '\f':
        out.push_back('f');
        break;
      default:
        out.append("u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(run, static_cast<std::size_t>(end - run));
  out.push_back('"');
}

void append_json(std::string& out, const json::value& v);

void append_json(std::string& out, const json::object& o) {
  out.push_back('{');
  bool first = true;
  for (const json::key_value_pair& member : o) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, member.key());
    out.push_back(':');
    append_json(out, member.value());
  }
  out.push_back('}');
}

// Compact JSON text of `v`, COPY-escaped, in one pass. Recursion depth is
// bounded by max_json_depth, which the parser enforced; numbers are finite
// (snapshot.h invariant 2), so the text is valid for json and jsonb.
void append_json(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out.append("null");
      return;
    case json::kind::bool_:
      out.append(v.get_bool() ? "true" : "false");
      return;
    case json::kind::int64:
      append_number(out, v.get_int64());
      return;
    case json::kind::uint64:
      append_number(out, v.get_uint64());
      return;
    case json::kind::double_:
      append_number(out, v.get_double());
      return;
    case json::kind::string:
      append_json_string(out, v.get_string());
      return;
    case json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const json::value& element : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        append_json(out, element);
      }
      out.push_back(']');
      return;
    }
    case json::kind::object:
      append_json(out, v.get_object());
      return;
  }
}

void append_digits(char* at, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    at[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// YYYY-MM-DD HH:MM:SS.ffffff+00. Snapshot invariant 4 keeps years in 0001..9999.
void append_timestamp(std::string& out, Timestamp t) {
  using namespace std::chrono;
  const sys_days day = floor<days>(t);
  const year_month_day date{day};
  const auto micros = static_cast<std::uint64_t>((t - day).count());
  XRAY_DCHECK(int(date.year()) >= 1 && int(date.year()) <= 9999);  // snapshot.h invariant 4
  char text[] = "0000-00-00 00:00:00.000000+00";
  append_digits(text, static_cast<unsigned>(int(date.year())), 4);
  append_digits(text + 5, unsigned(date.month()), 2);
  append_digits(text + 8, unsigned(date.day()), 2);
  append_digits(text + 11, static_cast<unsigned>(micros / 3'600'000'000), 2);
  append_digits(text + 14, static_cast<unsigned>(micros / 60'000'000 % 60), 2);
  append_digits(text + 17, static_cast<unsigned>(micros / 1'000'000 % 60), 2);
  append_digits(text + 20, static_cast<unsigned>(micros % 1'000'000), 6);
  out.append(text, sizeof text - 1);  // without the terminating NUL
}

// Writes one row at a time, column by column, into the string it is given.
class RowWriter {
 public:
  explicit RowWriter(std::string* out) : out_(out) {}

  void set_output(std::string* out) { out_ = out; }

  void text(std::string_view s) {
    separate();
    append_escaped(*out_, s);
  }
  void text(const std::optional<std::string_view>& s) {
    if (s) {
      text(*s);
    } else {
      null();
    }
  }
  template <class Int>
  void integer(Int n) {
    separate();
    append_number(*out_, n);
  }
  void timestamp(const std::optional<Timestamp>& t) {
    separate();
    if (t) {
      append_timestamp(*out_, *t);
    } else {
      out_->append(kNull);
    }
  }
  void boolean(std::optional<bool> b) {
    separate();
    if (b) {
      out_->push_back(*b ? 't' : 'f');
    } else {
      out_->append(kNull);
    }
  }
  void null() {
    separate();
    out_->append(kNull);
  }

  // Compact JSON text of the value; a null pointer is SQL NULL.
  template <class Json>
  void json_value(const Json* v) {
    if (v == nullptr) {
      null();
      return;
    }
    separate();
    append_json(*out_, *v);
  }

  // A text[] literal: {"a","b"}. Quoting every element keeps the literal NULL,
  // empty strings and elements with spaces, commas or braces what they are.
  void text_array(const json::array* elements) {
    separate();
    if (elements == nullptr) {
      out_->append("{}");  // evaluations.reasons is NOT NULL DEFAULT '{}'
      return;
    }
    scratch_.clear();
    scratch_.push_back('{');
    for (std::size_t i = 0; i < elements->size(); ++i) {
      if (i > 0) scratch_.push_back(',');
      scratch_.push_back('"');
      for (char c : (*elements)[i].get_string()) {
        if (c == '"' || c == '\\') scratch_.push_back('\\');
        scratch_.push_back(c);
      }
      scratch_.push_back('"');
    }
    scratch_.push_back('}');
    append_escaped(*out_, scratch_);
  }

  void end_row() {
    out_->push_back('\n');
    first_ = true;
  }

 private:
  void separate() {
    if (!first_) out_->push_back('\t');
    first_ = false;
  }

  std::string* out_;
  bool first_ = true;
  std::string scratch_;
};

}  // namespace

void encode_snapshot(const Snapshot& s, Record& out) {
  out.app.assign(s.app);
  out.id.assign(s.id);
  out.running = s.status == ExecutionStatus::kRunning;
  out.execution_row.clear();
  out.step_rows.clear();
  out.evaluation_rows.clear();
  out.step_count = s.steps.size();
  out.evaluation_count = 0;
  for (const Step& step : s.steps) out.evaluation_count += step.evaluations.size();
  // Rough sizes, so that most snapshots encode without a reallocation.
  out.step_rows.reserve(s.steps.size() * 512);
  out.evaluation_rows.reserve(out.evaluation_count * 128);

  // Columns: copy_layout::kExecutionColumns.
  RowWriter row(&out.execution_row);
  row.text(s.app);
  row.text(s.id);
  row.text(s.pipeline);
  row.text(s.environment);
  row.text(status_name(s.status));
  row.timestamp(s.started_at);
  row.timestamp(s.ended_at);
  row.integer(s.steps.size());
  row.json_value(s.metadata);
  row.json_value(s.result);
  row.json_value(s.error);
  row.end_row();

  for (std::size_t i = 0; i < s.steps.size(); ++i) {
    const Step& step = s.steps[i];
    // Columns: copy_layout::kStepColumns.
    row.set_output(&out.step_rows);
    row.text(s.app);
    row.text(s.id);
    row.integer(i);
    row.text(step.name);
    row.text(status_name(step.status));
    row.timestamp(step.started_at);
    row.timestamp(step.ended_at);
    if (step.evaluations.empty()) {
      row.null();
      row.null();
    } else {
      std::size_t passed = 0;
      for (const Evaluation& e : step.evaluations) passed += e.passed == true ? 1 : 0;
      row.integer(step.evaluations.size());
      row.integer(passed);
    }
    row.json_value(step.input);
    row.json_value(step.output);
    row.json_value(step.filters);
    row.json_value(step.selection);
    row.text(step.reasoning);
    row.json_value(step.metadata);
    row.json_value(step.error);
    row.end_row();

    // Columns: copy_layout::kEvaluationColumns.
    row.set_output(&out.evaluation_rows);
    for (std::size_t j = 0; j < step.evaluations.size(); ++j) {
      const Evaluation& e = step.evaluations[j];
      row.text(s.app);
      row.text(s.id);
      row.integer(i);
      row.integer(j);
      row.text(e.candidate_id);
      row.boolean(e.passed);
      row.text_array(e.reasons);
      row.json_value(e.scores);
      row.json_value(e.metadata);
      row.end_row();
    }
  }
}

}  // namespace xrayd
