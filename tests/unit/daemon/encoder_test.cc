#include "daemon/encoder.h"

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <boost/json.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include "daemon/copy_layout.h"
#include "daemon/snapshot_parser.h"
#include "tests/support/pg_server.h"

namespace xrayd {
namespace {

namespace json = boost::json;
using xray::testing::PgServer;

json::object minimal() {
  return {{"id", "exec-1"},
          {"app", "shop"},
          {"pipeline", "pick"},
          {"status", "completed"},
          {"started_at", "2026-11-22T10:00:00.123Z"}};
}

Snapshot parse(const json::value& v) {
  auto r = parse_snapshot(json::serialize(v), SnapshotLimits{});
  if (!r) {
    ADD_FAILURE() << r.error().field << ": " << r.error().message;
    return parse_snapshot(json::serialize(minimal()), SnapshotLimits{}).value();
  }
  return std::move(*r);
}

Record encode(const json::value& v) {
  Snapshot s = parse(v);
  Record record;
  encode_snapshot(s, record);
  return record;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == separator) {
      parts.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

// The raw COPY text of column `name` of the one-line `row`, located through
// the copy_layout list, so these tests check the encoder against the layout.
std::string column(const std::string& row, const char* layout, std::string_view name) {
  EXPECT_FALSE(row.empty());
  EXPECT_EQ(row.back(), '\n');
  std::vector<std::string> names = split(layout, ',');
  std::vector<std::string> fields = split(std::string_view(row).substr(0, row.size() - 1), '\t');
  EXPECT_EQ(fields.size(), names.size()) << row;
  for (std::size_t i = 0; i < names.size() && i < fields.size(); ++i) {
    std::string n = names[i];
    n.erase(0, n.find_first_not_of(' '));
    if (n == name) return fields[i];
  }
  ADD_FAILURE() << "no column " << name;
  return {};
}

std::string step_column(const Record& r, std::string_view name, std::size_t line = 0) {
  return column(split(r.step_rows, '\n').at(line) + "\n", copy_layout::kStepColumns, name);
}

std::string evaluation_column(const Record& r, std::string_view name, std::size_t line = 0) {
  return column(split(r.evaluation_rows, '\n').at(line) + "\n", copy_layout::kEvaluationColumns,
                name);
}

std::string execution_column(const Record& r, std::string_view name) {
  return column(r.execution_row, copy_layout::kExecutionColumns, name);
}

json::object with_step(json::object step) {
  json::object s = minimal();
  s["steps"] = json::array{std::move(step)};
  return s;
}

TEST(Encoder, WritesMinimalExecutionRowWithNulls) {
  Record r = encode(minimal());
  EXPECT_EQ(
      r.execution_row,
      "shop\texec-1\tpick\t\\N\tcompleted\t2026-11-22 10:00:00.123000+00\t\\N\t0\t\\N\t\\N\t\\N\n");
  EXPECT_EQ(r.step_rows, "");
  EXPECT_EQ(r.evaluation_rows, "");
}

TEST(Encoder, FillsRecordKeysAndCounts) {
  json::object s = minimal();
  s["status"] = "running";
  s["steps"] = json::array{
      json::object{{"name", "a"}, {"evaluations", json::array{json::object{{"id", "x"}}}}},
      json::object{
          {"name", "b"},
          {"evaluations", json::array{json::object{{"id", "y"}}, json::object{{"id", "z"}}}}}};
  Record r = encode(s);
  EXPECT_EQ(r.app, "shop");
  EXPECT_EQ(r.id, "exec-1");
  EXPECT_TRUE(r.running);
  EXPECT_EQ(r.step_count, 2u);
  EXPECT_EQ(r.evaluation_count, 3u);
  EXPECT_EQ(split(r.step_rows, '\n').size(), 3u);  // two lines and the empty tail
  EXPECT_EQ(split(r.evaluation_rows, '\n').size(), 4u);
  EXPECT_EQ(execution_column(r, "step_count"), "2");
}

TEST(Encoder, ReplacesRowsButKeepsOtherMembersWhenRecordIsReused) {
  Record r;
  r.received_at = std::chrono::steady_clock::time_point{std::chrono::seconds{5}};
  encode_snapshot(
      parse(with_step({{"name", "a"}, {"evaluations", json::array{json::object{{"id", "x"}}}}})),
      r);
  encode_snapshot(parse(minimal()), r);
  EXPECT_EQ(r.step_rows, "");
  EXPECT_EQ(r.evaluation_rows, "");
  EXPECT_EQ(r.step_count, 0u);
  EXPECT_EQ(r.evaluation_count, 0u);
  EXPECT_FALSE(r.running);
  EXPECT_EQ(r.received_at, std::chrono::steady_clock::time_point{std::chrono::seconds{5}});
}

TEST(Encoder, WritesStepAndEvaluationRowsInLayoutOrder) {
  json::object s = minimal();
  s["steps"] = json::array{
      json::object{{"name", "fetch"}},
      json::object{
          {"name", "filter"},
          {"status", "failed"},
          {"started_at", 0},
          {"ended_at", "1970-01-01T00:00:01.5Z"},
          {"input", {{"n", 3}}},
          {"output", json::array{1, 2}},
          {"filters", {{"minRating", 4.0}}},
          {"evaluations",
           json::array{json::object{{"id", "a"}, {"passed", true}, {"scores", {{"r", 5}}}},
                       json::object{{"id", 7}, {"passed", false}, {"reasons", json::array{"low"}}},
                       json::object{{"id", "c"}, {"metadata", {{"m", nullptr}}}}}},
          {"selection", "a"},
          {"reasoning", "kept one"},
          {"metadata", {{"k", true}}},
          {"error", {{"code", 1}}}}};
  Record r = encode(s);
  EXPECT_EQ(
      r.step_rows,
      "shop\texec-1\t0\tfetch\tcompleted\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n"
      "shop\texec-1\t1\tfilter\tfailed\t1970-01-01 00:00:00.000000+00\t"
      "1970-01-01 00:00:01.500000+00\t3\t1\t{\"n\":3}\t[1,2]\t{\"minRating\":4}\t\"a\"\t"
      "kept one\t{\"k\":true}\t{\"code\":1}\n");
  EXPECT_EQ(r.evaluation_rows,
            "shop\texec-1\t1\t0\ta\tt\t{}\t{\"r\":5}\t\\N\n"
            "shop\texec-1\t1\t1\t7\tf\t{\"low\"}\t\\N\t\\N\n"
            "shop\texec-1\t1\t2\tc\t\\N\t{}\t\\N\t{\"m\":null}\n");
}

TEST(Encoder, LeavesCandidateCountsNullWhenStepHasNoEvaluations) {
  json::object s = minimal();
  s["steps"] = json::array{json::object{{"name", "none"}},
                           json::object{{"name", "empty"}, {"evaluations", json::array{}}},
                           json::object{{"name", "null"}, {"evaluations", nullptr}}};
  Record r = encode(s);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(step_column(r, "candidates_in", i), "\\N");
    EXPECT_EQ(step_column(r, "candidates_passed", i), "\\N");
  }
}

TEST(Encoder, CountsOnlyPassedTrueAsPassed) {
  Record r = encode(
      with_step({{"name", "f"},
                 {"evaluations", json::array{json::object{{"id", "a"}, {"passed", true}},
                                             json::object{{"id", "b"}, {"passed", false}},
                                             json::object{{"id", "c"}, {"passed", nullptr}},
                                             json::object{{"id", "d"}},
                                             json::object{{"id", "e"}, {"passed", true}}}}}));
  EXPECT_EQ(step_column(r, "candidates_in"), "5");
  EXPECT_EQ(step_column(r, "candidates_passed"), "2");
}

TEST(Encoder, EscapesCopyTextSpecialsInTextColumns) {
  json::object s = minimal();
  s["id"] = "tab\there";
  s["environment"] = "\\N";  // the literal text, not NULL
  s["steps"] = json::array{
      json::object{{"name", "n"}, {"reasoning", "a\tb\nc\rd\\e\\.\n\\.\x01\x1b\x7f end"}}};
  Record r = encode(s);
  EXPECT_EQ(execution_column(r, "id"), "tab\\there");
  EXPECT_EQ(r.id, "tab\there");  // the key itself is not escaped
  EXPECT_EQ(execution_column(r, "environment"), "\\\\N");
  EXPECT_EQ(step_column(r, "reasoning"), "a\\tb\\nc\\rd\\\\e\\\\.\\n\\\\.\x01\x1b\x7f end");
}

TEST(Encoder, DoublesBackslashesOfJsonEscapes) {
  Record r =
      encode(with_step({{"name", "n"}, {"input", {{"s", "tab\t \"q\" back\\slash\nnl\x01"}}}}));
  // JSON escapes first ({"s":"tab\t \"q\" back\\slash\nnl\u0001"}), then COPY doubles each
  // backslash.
  EXPECT_EQ(step_column(r, "input"), R"({"s":"tab\\t \\"q\\" back\\\\slash\\nnl\\u0001"})");
}

TEST(Encoder, KeepsNonAsciiAndEmojiRaw) {
  json::object s = minimal();
  s["pipeline"] = "sélection 🚀";
  s["metadata"] = {{"名前", "😀"}};
  Record r = encode(s);
  EXPECT_EQ(execution_column(r, "pipeline"), "sélection 🚀");
  EXPECT_EQ(execution_column(r, "metadata"), "{\"名前\":\"😀\"}");
}

TEST(Encoder, WritesLargeNumbersExactly) {
  auto snapshot = parse_snapshot(
      R"({"id":"a","app":"b","pipeline":"c","status":"completed","started_at":0,)"
      R"("result":[9223372036854775807,18446744073709551615,-9007199254740993,1e300,-9223372036854775808,0.1,4.6,-0.0,4.0]})",
      SnapshotLimits{});
  ASSERT_TRUE(snapshot) << snapshot.error().message;
  Record r;
  encode_snapshot(*snapshot, r);
  EXPECT_EQ(execution_column(r, "result"),
            "[9223372036854775807,18446744073709551615,-9007199254740993,1e+300,"
            "-9223372036854775808,0.1,4.6,-0,4]");
}

TEST(Encoder, QuotesEveryReasonInTheArrayLiteral) {
  Record r = encode(with_step(
      {{"name", "f"},
       {"evaluations",
        json::array{json::object{{"id", "a"},
                                 {"reasons", json::array{"say \"hi\"", "back\\slash", "a, b", "{x}",
                                                         "NULL", "", " pad ", "tab\tnl\n"}}}}}}));
  // Element level: "..." with \" and \\; then COPY level doubles each backslash.
  EXPECT_EQ(evaluation_column(r, "reasons"),
            R"({"say \\"hi\\"","back\\\\slash","a, b","{x}","NULL",""," pad ","tab\tnl\n"})");
}

TEST(Encoder, FormatsTimestampsAsUtcMicroseconds) {
  json::object s = minimal();
  s["started_at"] = "0001-01-01T00:00:00Z";
  s["ended_at"] = "9999-12-31T23:59:59.999999+00:00";
  s["steps"] =
      json::array{json::object{{"name", "a"}, {"started_at", "2026-11-22T12:34:56.000007+02:00"}},
                  json::object{{"name", "b"}, {"started_at", -1}}};
  Record r = encode(s);
  EXPECT_EQ(execution_column(r, "started_at"), "0001-01-01 00:00:00.000000+00");
  EXPECT_EQ(execution_column(r, "ended_at"), "9999-12-31 23:59:59.999999+00");
  EXPECT_EQ(step_column(r, "started_at", 0), "2026-11-22 10:34:56.000007+00");
  EXPECT_EQ(step_column(r, "started_at", 1), "1969-12-31 23:59:59.999000+00");
}

// --- against a real PostgreSQL: the escaping must be what the server reads.

struct PgConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;
using Row = std::vector<std::optional<std::string>>;

class EncoderInPostgres : public testing::Test {
 protected:
  void SetUp() override {
    PgServer& pg = PgServer::shared();
    pg.reset_database();
    conn_.reset(PQconnectdb(pg.conninfo().c_str()));
    ASSERT_EQ(PQstatus(conn_.get()), CONNECTION_OK) << PQerrorMessage(conn_.get());
    PgResult r(PQexec(conn_.get(), "SET client_encoding = 'UTF8'"));
    ASSERT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK);
  }

  // COPYs the record's rows into the three tables with the copy_layout column
  // lists, as the writer does. Returns PostgreSQL's error, or "" on success.
  std::string load(const Record& r) {
    for (auto [table, columns, rows] :
         {std::tuple{"executions", copy_layout::kExecutionColumns, &r.execution_row},
          std::tuple{"steps", copy_layout::kStepColumns, &r.step_rows},
          std::tuple{"evaluations", copy_layout::kEvaluationColumns, &r.evaluation_rows}}) {
      std::string sql = std::string("COPY ") + table + " (" + columns + ") FROM STDIN";
      PgResult start(PQexec(conn_.get(), sql.c_str()));
      if (PQresultStatus(start.get()) != PGRES_COPY_IN) return PQerrorMessage(conn_.get());
      if (PQputCopyData(conn_.get(), rows->data(), static_cast<int>(rows->size())) != 1 ||
          PQputCopyEnd(conn_.get(), nullptr) != 1) {
        return PQerrorMessage(conn_.get());
      }
      PgResult done(PQgetResult(conn_.get()));
      std::string error =
          PQresultStatus(done.get()) == PGRES_COMMAND_OK ? "" : PQresultErrorMessage(done.get());
      while (PGresult* extra = PQgetResult(conn_.get())) PQclear(extra);
      if (!error.empty()) return error;
    }
    return "";
  }

  std::string load(const json::value& snapshot) { return load(encode(snapshot)); }

  // Every row of `sql`, each column as text or nullopt for NULL.
  std::vector<Row> rows(const std::string& sql) {
    PgResult r(PQexec(conn_.get(), sql.c_str()));
    EXPECT_EQ(PQresultStatus(r.get()), PGRES_TUPLES_OK) << PQresultErrorMessage(r.get()) << sql;
    std::vector<Row> out;
    for (int i = 0; i < PQntuples(r.get()); ++i) {
      Row row;
      for (int j = 0; j < PQnfields(r.get()); ++j) {
        if (PQgetisnull(r.get(), i, j)) {
          row.emplace_back();
        } else {
          row.emplace_back(std::string(PQgetvalue(r.get(), i, j),
                                       static_cast<std::size_t>(PQgetlength(r.get(), i, j))));
        }
      }
      out.push_back(std::move(row));
    }
    return out;
  }

  Row one_row(const std::string& sql) {
    std::vector<Row> all = rows(sql);
    EXPECT_EQ(all.size(), 1u) << sql;
    return all.empty() ? Row{} : all[0];
  }

  std::unique_ptr<PGconn, PgConnDeleter> conn_;
};

// Strings PostgreSQL must read back unchanged.
const std::vector<std::string>& nasty_strings() {
  static const std::vector<std::string> kStrings = {
      "tab\there",  "new\nline", "cr\rhere",     "back\\slash",    "\\N",     "\\.",
      "say \"hi\"", "a, b",      "{braces}",     "NULL",           "",        " padded ",
      "é ü ß",      "😀🚀",        "\x01\x1b\x7f", "line\n\\.\nend", "'single'"};
  return kStrings;
}

TEST_F(EncoderInPostgres, ReadsBackEveryFieldAfterCopy) {
  const auto& nasty = nasty_strings();
  json::array reasons;
  json::object nasty_object;
  for (std::size_t i = 0; i < nasty.size(); ++i) {
    reasons.push_back(json::string(nasty[i]));
    nasty_object[nasty[i].empty() ? "empty" : nasty[i]] = nasty[i];
  }
  json::value numbers = json::parse(
      "[9223372036854775807,18446744073709551615,-9007199254740993,1e300,-1.5e-300,0.1]");

  json::object s = {{"id", "id\twith\\tab"},
                    {"app", "app \\N"},
                    {"pipeline", "pipé 🚀"},
                    {"environment", "line\nbreak"},
                    {"status", "failed"},
                    {"started_at", "2026-11-22T10:00:00.123456+05:30"},
                    {"ended_at", 1795341600999},
                    {"metadata", {{"nasty", nasty_object}, {"numbers", numbers}}},
                    {"result", {{"nasty", nasty_object}, {"numbers", numbers}}},
                    {"error", "boom\r\n"}};
  s["steps"] = json::array{
      json::object{{"name", "step\twith tab"},
                   {"status", "skipped"},
                   {"input", nasty_object},
                   {"output", numbers},
                   {"filters", {{"minRating", 4.5}, {"k", "\\"}}},
                   {"selection", "a\tb"},
                   {"reasoning", "multi\nline\\reasoning\r\twith \\N and \\."},
                   {"metadata", nasty_object},
                   {"error", numbers},
                   {"evaluations",
                    json::array{json::object{{"id", "cand\t\\1"},
                                             {"passed", false},
                                             {"reasons", reasons},
                                             {"scores", {{"numbers", numbers}}},
                                             {"metadata", nasty_object}},
                                json::object{{"id", 18446744073709551615ull}, {"passed", true}},
                                json::object{{"id", "x"}}}}},
      json::object{{"name", "empty"}}};
  Snapshot snapshot = parse(s);
  Record record;
  encode_snapshot(snapshot, record);
  ASSERT_EQ(load(record), "");

  Row e = one_row(
      "SELECT app, id, pipeline, environment, status, "
      "(extract(epoch FROM started_at) * 1000000)::bigint, "
      "(extract(epoch FROM ended_at) * 1000000)::bigint, step_count, metadata::text, "
      "result::text, error::text FROM executions");
  ASSERT_EQ(e.size(), 11u);
  EXPECT_EQ(e[0], "app \\N");
  EXPECT_EQ(e[1], "id\twith\\tab");
  EXPECT_EQ(e[2], "pipé 🚀");
  EXPECT_EQ(e[3], "line\nbreak");
  EXPECT_EQ(e[4], "failed");
  EXPECT_EQ(e[5], std::to_string(snapshot.started_at.time_since_epoch().count()));
  EXPECT_EQ(e[6], "1795341600999000");
  EXPECT_EQ(e[7], "2");
  // jsonb normalises (key order, number spelling): compare as JSON values.
  EXPECT_EQ(json::parse(*e[8]), s["metadata"]);
  // json keeps the text the encoder wrote, byte for byte.
  EXPECT_THAT(*e[9], testing::HasSubstr("\"numbers\":[9223372036854775807,18446744073709551615,"
                                        "-9007199254740993,1e+300,-1.5e-300,0.1]"));
  EXPECT_EQ(json::parse(*e[9]), s["result"]);
  EXPECT_EQ(e[10], "\"boom\\r\\n\"");

  Row st = one_row(
      "SELECT name, status, started_at, candidates_in, candidates_passed, input::text, "
      "output::text, filters::text, selection::text, reasoning, metadata::text, error::text "
      "FROM steps WHERE step_index = 0");
  ASSERT_EQ(st.size(), 12u);
  EXPECT_EQ(st[0], "step\twith tab");
  EXPECT_EQ(st[1], "skipped");
  EXPECT_EQ(st[2], std::nullopt);
  EXPECT_EQ(st[3], "3");
  EXPECT_EQ(st[4], "1");
  EXPECT_EQ(json::parse(*st[5]), nasty_object);
  EXPECT_EQ(json::parse(*st[6]), numbers);
  EXPECT_EQ(json::parse(*st[7]), (json::object{{"minRating", 4.5}, {"k", "\\"}}));
  EXPECT_EQ(json::parse(*st[8]), "a\tb");
  EXPECT_EQ(st[9], "multi\nline\\reasoning\r\twith \\N and \\.");
  EXPECT_EQ(json::parse(*st[10]), nasty_object);
  EXPECT_EQ(json::parse(*st[11]), numbers);

  Row empty = one_row(
      "SELECT name, status, candidates_in, candidates_passed, input, reasoning FROM steps "
      "WHERE step_index = 1");
  EXPECT_EQ(empty,
            (Row{"empty", "completed", std::nullopt, std::nullopt, std::nullopt, std::nullopt}));

  std::vector<Row> ev = rows(
      "SELECT position::text, candidate_id, passed::text, cardinality(reasons)::text, "
      "scores::text, metadata::text FROM evaluations ORDER BY position");
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0][1], "cand\t\\1");
  EXPECT_EQ(ev[0][2], "false");
  EXPECT_EQ(ev[0][3], std::to_string(nasty.size()));
  EXPECT_EQ(json::parse(*ev[0][4]), (json::object{{"numbers", numbers}}));
  EXPECT_EQ(json::parse(*ev[0][5]), nasty_object);
  EXPECT_EQ(ev[1], (Row{"1", "18446744073709551615", "true", "0", std::nullopt, std::nullopt}));
  EXPECT_EQ(ev[2], (Row{"2", "x", std::nullopt, "0", std::nullopt, std::nullopt}));

  // Each reason element by element: quoting survived both levels of escaping.
  std::vector<Row> back = rows(
      "SELECT r, r IS NULL FROM evaluations, unnest(reasons) WITH ORDINALITY AS u(r, n) "
      "WHERE position = 0 ORDER BY n");
  ASSERT_EQ(back.size(), nasty.size());
  for (std::size_t i = 0; i < nasty.size(); ++i) {
    EXPECT_EQ(back[i][0], nasty[i]) << i;
    EXPECT_EQ(back[i][1], "f") << i;
  }

  // The large numbers in jsonb, by SQL: exact as numeric.
  Row n = one_row(
      "SELECT metadata->'numbers'->>0, metadata->'numbers'->>1, metadata->'numbers'->>2, "
      "(metadata->'numbers'->>3)::numeric = 1e300 FROM executions");
  EXPECT_EQ(n, (Row{"9223372036854775807", "18446744073709551615", "-9007199254740993", "t"}));
}

TEST_F(EncoderInPostgres, LoadsManySnapshotsInOneCopy) {
  // The writer concatenates records' rows; each row must end exactly where the next begins.
  Record all;
  for (int i = 0; i < 20; ++i) {
    json::object s = minimal();
    s["id"] = "exec-" + std::to_string(i);
    s["steps"] = json::array{
        json::object{{"name", "f"},
                     {"reasoning", "ends with a backslash \\"},
                     {"evaluations",
                      json::array{json::object{
                          {"id", "a"}, {"passed", i % 2 == 0}, {"reasons", json::array{"\\"}}}}}}};
    Record r = encode(s);
    all.execution_row += r.execution_row;
    all.step_rows += r.step_rows;
    all.evaluation_rows += r.evaluation_rows;
  }
  ASSERT_EQ(load(all), "");
  EXPECT_EQ(one_row("SELECT count(*), count(DISTINCT id) FROM executions"), (Row{"20", "20"}));
  EXPECT_EQ(one_row("SELECT count(*) FROM steps WHERE reasoning = 'ends with a backslash \\'"),
            (Row{"20"}));
  EXPECT_EQ(one_row("SELECT count(*) FROM evaluations WHERE reasons = ARRAY['\\']"), (Row{"20"}));
  EXPECT_EQ(one_row("SELECT sum(candidates_passed) FROM steps"), (Row{"10"}));
}

// The headline questions of docs/schema.md, run as written there.
std::vector<std::string> headline_queries() {
  std::ifstream in(std::string(XRAY_SOURCE_DIR) + "/docs/schema.md");
  std::stringstream text;
  text << in.rdbuf();
  std::string doc = text.str();
  std::vector<std::string> queries;
  std::size_t at = doc.find("## Headline questions");
  while (at != std::string::npos) {
    at = doc.find("```sql\n", at);
    if (at == std::string::npos) break;
    std::size_t end = doc.find("```", at + 7);
    queries.push_back(doc.substr(at + 7, end - at - 7));
    at = end + 3;
  }
  return queries;
}

// A run whose filter step rates `rated` candidates against minRating 4.0 and
// keeps `kept` of them, plus one candidate that fails on price alone.
json::object filtering_run(const std::string& id, const std::string& pipeline, int rated,
                           int kept) {
  json::array evaluations;
  for (int i = 0; i < rated; ++i) {
    json::object e{{"id", "B" + std::to_string(i)}, {"passed", i < kept}};
    e["scores"] = {{"rating", i < kept ? 4.5 : 3.1}, {"price", 20}};
    if (i >= kept) e["reasons"] = json::array{"rating 3.1 < 4.0"};
    evaluations.push_back(std::move(e));
  }
  evaluations.push_back(json::object{{"id", "P0"},
                                     {"passed", false},
                                     {"scores", {{"rating", 4.8}, {"price", 49.99}}},
                                     {"reasons", json::array{"price 49.99 > 40"}}});
  json::object s = {{"id", id},
                    {"app", "shopping-assistant"},
                    {"pipeline", pipeline},
                    {"status", "completed"},
                    {"started_at", "2026-11-22T10:00:00Z"}};
  s["steps"] = json::array{json::object{{"name", "search"}},
                           json::object{{"name", "filter_candidates"},
                                        {"filters", {{"minRating", 4.0}, {"maxPrice", 40}}},
                                        {"evaluations", std::move(evaluations)}}};
  return s;
}

TEST_F(EncoderInPostgres, AnswersTheHeadlineQuestionsOfTheSchemaDoc) {
  std::vector<std::string> queries = headline_queries();
  ASSERT_EQ(queries.size(), 2u)
      << "docs/schema.md: expected two sql blocks under Headline questions";
  ASSERT_EQ(load(filtering_run("run-95", "competitor-selection", 19, 1)), "");  // 19 of 20 out
  ASSERT_EQ(load(filtering_run("run-50", "competitor-selection", 9, 5)), "");   // 5 of 10
  ASSERT_EQ(load(filtering_run("run-100", "price-check", 9, 0)), "");           // all 10
  ASSERT_EQ(load(filtering_run("run-90", "price-check", 19, 2)),
            "");  // 18 of 20: not more than 90 %

  std::vector<std::string> runs;
  for (const Row& r : rows(queries[0])) runs.push_back(r.at(1).value_or(""));
  EXPECT_THAT(runs, testing::UnorderedElementsAre("run-95", "run-100"));

  // Only the rating failures, each with its reasons; never P0, which failed on price.
  std::vector<Row> failed = rows(queries[1]);
  EXPECT_EQ(failed.size(), 18u + 4u + 9u + 17u);
  for (const Row& r : failed) {
    EXPECT_THAT(r, testing::Contains(std::optional<std::string>("{\"rating 3.1 < 4.0\"}")));
    EXPECT_THAT(r, testing::Not(testing::Contains(std::optional<std::string>("P0"))));
  }
}

}  // namespace
}  // namespace xrayd
