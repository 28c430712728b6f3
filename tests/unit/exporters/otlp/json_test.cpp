#include "exporters/otlp/json.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <limits>
#include <string>

#include "exporters/otlp/traces.h"
#include "exporters/otlp/wire.h"
#include "tests/unit/exporters/otlp/request_builder.h"

namespace covet::otlp {
namespace {

using namespace covet::otlp::testing;

std::string fixture(const char* name) {
  std::ifstream file(std::string(COVET_FIXTURES_DIR) + "/otlp/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// The spec's examples/trace.json, minus the scope attributes' second half.
constexpr const char* kSpecExample = R"({
  "resourceSpans": [{
    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "my.service"}}]},
    "scopeSpans": [{
      "scope": {"name": "my.library", "version": "1.0.0",
                "attributes": [{"key": "my.scope.attribute",
                                "value": {"stringValue": "some scope attribute"}}]},
      "spans": [{
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "parentSpanId": "EEE19B7EC3C1B173",
        "name": "I'm a server span",
        "startTimeUnixNano": 1544712660000000000,
        "endTimeUnixNano": 1544712661000000000,
        "kind": 2,
        "attributes": [{"key": "my.span.attr", "value": {"stringValue": "some value"}}]
      }]
    }]
  }]
})";

// The same request as tests/fixtures/otlp/js_sdk_request.txtpb, members in field-number
// order, so that it encodes to exactly the bytes protoc made from the text format.
constexpr const char* kFixtureAsJson = R"({"resourceSpans":[{
  "resource":{"attributes":[
    {"key":"service.name","value":{"stringValue":"covet-example"}},
    {"key":"telemetry.sdk.language","value":{"stringValue":"nodejs"}},
    {"key":"telemetry.sdk.name","value":{"stringValue":"opentelemetry"}},
    {"key":"telemetry.sdk.version","value":{"stringValue":"2.12.0"}},
    {"key":"process.pid","value":{"intValue":"4242"}},
    {"key":"process.command_args","value":{"arrayValue":{"values":[
      {"stringValue":"/usr/bin/node"},{"stringValue":"server.js"}]}}},
    {"key":"k8s.pod.name","value":{"stringValue":"app-7d9f-abcde"}}]},
  "scopeSpans":[{
    "scope":{"name":"@opentelemetry/instrumentation-http","version":"0.223.0"},
    "spans":[{
      "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
      "name":"GET /orders","kind":2,
      "startTimeUnixNano":"1764030000000000000","endTimeUnixNano":"1764030000012500000",
      "attributes":[
        {"key":"http.request.method","value":{"stringValue":"GET"}},
        {"key":"url.path","value":{"stringValue":"/orders"}},
        {"key":"http.response.status_code","value":{"intValue":200}},
        {"key":"server.duration","value":{"doubleValue":12.5}},
        {"key":"http.sampled","value":{"boolValue":true}}],
      "events":[{"timeUnixNano":"1764030000005000000","name":"cache miss",
        "attributes":[{"key":"cache.key","value":{"stringValue":"orders:42"}}]}],
      "links":[{"traceId":"0102030405060708090A0B0C0D0E0F10","spanId":"1112131415161718",
        "attributes":[{"key":"link.reason","value":{"stringValue":"retry"}}]}],
      "status":{"code":1}
    },{
      "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B175",
      "parentSpanId":"EEE19B7EC3C1B174","name":"SELECT orders","kind":"SPAN_KIND_CLIENT",
      "startTimeUnixNano":1764030000001000000,"endTimeUnixNano":1764030000004000000,
      "attributes":[
        {"key":"db.system","value":{"stringValue":"postgresql"}},
        {"key":"db.payload","value":{"bytesValue":"AAH+/w=="}},
        {"key":"db.meta","value":{"kvlistValue":{"values":[
          {"key":"rows","value":{"intValue":-3}}]}}}],
      "status":{"message":"timeout","code":"STATUS_CODE_ERROR"}
    }]
  }],
  "schemaUrl":"https://opentelemetry.io/schemas/1.24.0"
}]})";

std::string error_of(std::string_view json) {
  const JsonConversion result = json_to_protobuf(json);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.protobuf.empty());
  return result.error;
}

// A request with one span made of the given members plus valid ids.
std::string span_json(std::string_view members) {
  return std::string(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{)") +
         R"("traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174")" +
         (members.empty() ? "" : ",") + std::string(members) + "}]}]}]}";
}

// The value a span's first attribute has on the wire, as the body of its AnyValue.
std::string first_attribute_value(std::string_view json) {
  const JsonConversion result = json_to_protobuf(json);
  EXPECT_TRUE(result.ok) << result.error;
  std::string_view bytes = result.protobuf;
  // request -> resource_spans -> scope_spans -> spans -> attributes -> value
  for (std::uint32_t number : {1u, 2u, 2u, 9u, 2u}) {
    wire::Reader reader(bytes);
    wire::Field field;
    bool found = false;
    while (reader.next(field)) {
      if (field.number == number) {
        bytes = field.bytes;
        found = true;
        break;
      }
    }
    if (!found) return "(absent)";
  }
  return std::string(bytes);
}

std::string attribute_json(std::string_view value) {
  return span_json(std::string(R"("attributes":[{"key":"k","value":{)") + std::string(value) +
                   "}}]");
}

TEST(OtlpJson, ConvertsTheSpecExample) {
  const JsonConversion result = json_to_protobuf(kSpecExample);
  ASSERT_TRUE(result.ok) << result.error;
  const ValidationResult validation = validate_export_request(result.protobuf);
  EXPECT_TRUE(validation.ok) << validation.error;
  EXPECT_EQ(validation.spans, 1u);
  EXPECT_EQ(resource_attributes(result.protobuf)[0], (Attributes{{"service.name", "my.service"}}));
}

TEST(OtlpJson, EncodesExactlyAsProtocDoes) {
  const JsonConversion result = json_to_protobuf(kFixtureAsJson);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.protobuf, fixture("js_sdk_request.pb"));
}

TEST(OtlpJson, ConvertsWhatTheJsSdkSends) {
  // Captured from @opentelemetry/exporter-trace-otlp-http (tests/fixtures/otlp/README.md).
  const JsonConversion result = json_to_protobuf(fixture("js_sdk_export.json"));
  ASSERT_TRUE(result.ok) << result.error;
  const ValidationResult validation = validate_export_request(result.protobuf);
  EXPECT_TRUE(validation.ok) << validation.error;
  EXPECT_EQ(validation.spans, 2u);
  EXPECT_EQ(resource_attributes(result.protobuf)[0],
            (Attributes{{"service.name", "covet-example"}, {"k8s.pod.name", "app-pod"}}));
}

TEST(OtlpJson, AcceptsSnakeCaseNames) {
  const JsonConversion result = json_to_protobuf(
      R"({"resource_spans":[{"scope_spans":[{"spans":[{"trace_id":"5B8EFFF798038103D269B633813FC60C",)"
      R"("span_id":"EEE19B7EC3C1B174","start_time_unix_nano":"5","parent_span_id":""}]}]}]})");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(validate_export_request(result.protobuf).spans, 1u);
}

TEST(OtlpJson, IgnoresUnknownFieldsAndNulls) {
  const JsonConversion result = json_to_protobuf(
      R"({"futureField":{"a":[1,2,{"b":null}]},"resourceSpans":[{"resource":null,"x":1,)"
      R"("scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C",)"
      R"("spanId":"EEE19B7EC3C1B174","newThing":"?","name":null}]}]}]})");
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(validate_export_request(result.protobuf).spans, 1u);
  EXPECT_TRUE(json_to_protobuf("{}").ok);
  EXPECT_EQ(json_to_protobuf("{}").protobuf, "");
  EXPECT_TRUE(json_to_protobuf(R"({"resourceSpans":[]})").ok);
}

TEST(OtlpJson, RejectsBadIdsWithTheirPlace) {
  const std::string request =
      std::string(R"({"resourceSpans":[{"scopeSpans":[{"spans":[]},)") +
      R"({"spans":[{},{},{},{"traceId":"5B8E","spanId":"EEE19B7EC3C1B174"}]}]}]})";
  EXPECT_EQ(error_of(request),
            "resourceSpans[0].scopeSpans[1].spans[0].traceId: missing; expected 32 hex digits");
  const std::string fourth =
      std::string(R"({"resourceSpans":[{"scopeSpans":[{"spans":[]},{"spans":[)") +
      std::string(3, ' ') +
      R"({"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174"},)"
      R"({"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174"},)"
      R"({"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174"},)"
      R"({"traceId":"5B8E","spanId":"EEE19B7EC3C1B174"}]}]}]})";
  EXPECT_EQ(error_of(fourth),
            "resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex digits");
  EXPECT_EQ(error_of(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":)"
                     R"("00000000000000000000000000000000","spanId":"EEE19B7EC3C1B174"}]}]}]})"),
            "resourceSpans[0].scopeSpans[0].spans[0].traceId: all zero, which is an invalid id");
  // Base64, as the plain proto3 mapping would have it, is not hex.
  EXPECT_EQ(error_of(R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":)"
                     R"("W47/95gDgQPSabYzgT/GDA==","spanId":"EEE19B7EC3C1B174"}]}]}]})"),
            "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits");
  EXPECT_EQ(error_of(span_json(R"("parentSpanId":"EEE19B7EC3C1B17G")")),
            "resourceSpans[0].scopeSpans[0].spans[0].parentSpanId: expected 16 hex digits");
  EXPECT_TRUE(
      json_to_protobuf(span_json(R"("links":[{"traceId":"00000000000000000000000000000000",)"
                                 R"("spanId":"0000000000000000"}])"))
          .ok);
  EXPECT_EQ(error_of(span_json(R"("links":[{"traceId":"5B8EFFF798038103D269B633813FC60C"}])")),
            "resourceSpans[0].scopeSpans[0].spans[0].links[0].spanId: missing; expected 16 hex "
            "digits");
}

TEST(OtlpJson, RejectsWrongTypes) {
  EXPECT_EQ(error_of(span_json(R"("name":5)")),
            "resourceSpans[0].scopeSpans[0].spans[0].name: expected a string");
  EXPECT_EQ(error_of(span_json(R"("kind":"SERVER")")),
            "resourceSpans[0].scopeSpans[0].spans[0].kind: unknown value \"SERVER\"");
  EXPECT_EQ(error_of(span_json(R"("kind":1.5)")),
            "resourceSpans[0].scopeSpans[0].spans[0].kind: expected an integer");
  EXPECT_EQ(error_of(span_json(R"("startTimeUnixNano":"-1")")),
            "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: expected an unsigned "
            "64-bit integer (a number or a decimal string)");
  EXPECT_EQ(error_of(span_json(R"("attributes":{})")),
            "resourceSpans[0].scopeSpans[0].spans[0].attributes: expected an array");
  EXPECT_EQ(error_of(span_json(R"("attributes":[{"key":"k","value":{"boolValue":"true"}}])")),
            "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.boolValue: expected true "
            "or false");
  EXPECT_EQ(error_of(span_json(R"("droppedAttributesCount":4294967296)")),
            "resourceSpans[0].scopeSpans[0].spans[0].droppedAttributesCount: expected an unsigned "
            "32-bit integer");
  EXPECT_EQ(error_of(span_json(R"("status":[])")),
            "resourceSpans[0].scopeSpans[0].spans[0].status: expected an object");
  EXPECT_EQ(error_of(R"({"resourceSpans":{}})"), "resourceSpans: expected an array");
  EXPECT_EQ(error_of("[]"), "expected an object");
  EXPECT_EQ(error_of(attribute_json(R"("bytesValue":"not base64!")")),
            "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.bytesValue: expected "
            "base64");
}

TEST(OtlpJson, SkipsAByteOrderMark) {
  const std::string json = span_json(R"("name":"checkout")");
  const JsonConversion plain = json_to_protobuf(json);
  ASSERT_TRUE(plain.ok) << plain.error;
  const JsonConversion marked = json_to_protobuf("\xEF\xBB\xBF" + json);
  ASSERT_TRUE(marked.ok) << marked.error;
  EXPECT_EQ(marked.protobuf, plain.protobuf);
  EXPECT_EQ(error_of("\xEF\xBB\xBF").rfind("invalid JSON: ", 0), 0u);
}

TEST(OtlpJson, RejectsInvalidJson) {
  EXPECT_EQ(error_of("").rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(error_of("{\"resourceSpans\":[").rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(error_of("{} {}").rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(error_of("{\"a\":\"\xff\"}").rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(error_of("{\"a\":\"\\ud800\"}").rfind("invalid JSON: ", 0), 0u);
  EXPECT_EQ(error_of(std::string(100000, '[') + std::string(100000, ']')),
            "invalid JSON: nested deeper than 256 levels");
}

TEST(OtlpJson, Int64EdgeCases) {
  const auto int_value_of = [](std::string_view value) {
    return first_attribute_value(
        attribute_json(std::string(R"("intValue":)") + std::string(value)));
  };
  EXPECT_EQ(int_value_of(R"("9223372036854775807")"),
            testing::int_value(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(int_value_of(R"("-9223372036854775808")"),
            testing::int_value(std::numeric_limits<std::int64_t>::min()));
  EXPECT_EQ(int_value_of("9223372036854775807"),
            testing::int_value(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(int_value_of("-9223372036854775808"),
            testing::int_value(std::numeric_limits<std::int64_t>::min()));
  // Past 2^53 a double would round; numbers are read as integers, exactly.
  EXPECT_EQ(int_value_of("9007199254740993"), testing::int_value(9007199254740993));
  EXPECT_EQ(int_value_of("1e3"), testing::int_value(1000));
  EXPECT_EQ(int_value_of("-0"), testing::int_value(0));
  for (const char* bad :
       {R"("9223372036854775808")", "9223372036854775808", R"("-9223372036854775809")", R"("1.5")",
        "1.5", R"(" 1")", R"("")", R"("+1")", R"("0x10")", "true", "1e19"}) {
    EXPECT_EQ(error_of(attribute_json(std::string(R"("intValue":)") + bad)),
              "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.intValue: expected a "
              "signed 64-bit integer (a number or a decimal string)")
        << bad;
  }
  // fixed64 takes the whole unsigned range.
  const JsonConversion max_time =
      json_to_protobuf(span_json(R"("endTimeUnixNano":"18446744073709551615")"));
  EXPECT_TRUE(max_time.ok) << max_time.error;
  EXPECT_FALSE(json_to_protobuf(span_json(R"("endTimeUnixNano":"18446744073709551616")")).ok);
}

TEST(OtlpJson, DoublesAndTheirSpecialValues) {
  const auto double_value_of = [](std::string_view value) {
    return first_attribute_value(
        attribute_json(std::string(R"("doubleValue":)") + std::string(value)));
  };
  const auto expected = [](double value) {
    std::string out;
    wire::put_double_field(out, 4, value);
    return out;
  };
  EXPECT_EQ(double_value_of("1.5"), expected(1.5));
  EXPECT_EQ(double_value_of("3"), expected(3));
  EXPECT_EQ(double_value_of(R"("2.25")"), expected(2.25));
  EXPECT_EQ(double_value_of(R"("Infinity")"), expected(std::numeric_limits<double>::infinity()));
  EXPECT_EQ(double_value_of(R"("-Infinity")"), expected(-std::numeric_limits<double>::infinity()));
  EXPECT_EQ(double_value_of(R"("NaN")").size(), 9u);
  EXPECT_FALSE(json_to_protobuf(attribute_json(R"("doubleValue":"abc")")).ok);
}

TEST(OtlpJson, BytesValuesInEitherBase64Alphabet) {
  EXPECT_EQ(first_attribute_value(attribute_json(R"("bytesValue":"AAH+/w==")")),
            message(7, std::string("\x00\x01\xfe\xff", 4)));
  EXPECT_EQ(first_attribute_value(attribute_json(R"("bytesValue":"AAH-_w")")),
            message(7, std::string("\x00\x01\xfe\xff", 4)));
  EXPECT_EQ(first_attribute_value(attribute_json(R"("bytesValue":"")")), message(7, ""));
}

TEST(OtlpJson, ValuesNestedTooDeepAreRefused) {
  std::string value = R"({"stringValue":"leaf"})";
  for (int i = 0; i < 70; ++i) value = R"({"arrayValue":{"values":[)" + value + "]}}";
  const std::string error =
      error_of(span_json(R"("attributes":[{"key":"k","value":)" + value + "}]"));
  EXPECT_NE(error.find("values nested too deep"), std::string::npos) << error;
}

std::string fmt_span(int i) {
  return fmt::format(
      R"({{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"{:016X}","name":"span {}",)"
      R"("attributes":[{{"key":"i","value":{{"intValue":"{}"}}}}]}})",
      i + 1, i, i);
}

TEST(OtlpJson, ALargeRequestConverts) {
  std::string json = R"({"resourceSpans":[{"scopeSpans":[{"spans":[)";
  for (int i = 0; i < 5000; ++i) {
    if (i > 0) json += ',';
    json += fmt_span(i);
  }
  json += "]}]}]}";
  const JsonConversion result = json_to_protobuf(json);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(validate_export_request(result.protobuf).spans, 5000u);
}

TEST(OtlpJson, ResponsesAsJson) {
  EXPECT_EQ(response_to_json(encode_response(0, "")), "{}");
  EXPECT_EQ(response_to_json(encode_response(2, "2 spans \"bad\"")),
            R"({"partialSuccess":{"rejectedSpans":"2","errorMessage":"2 spans \"bad\""}})");
  EXPECT_EQ(response_to_json(encode_response(0, "warning")),
            R"({"partialSuccess":{"errorMessage":"warning"}})");
  EXPECT_EQ(status_to_json(encode_status(3, "malformed: line\n")),
            R"({"code":3,"message":"malformed: line\n"})");
  EXPECT_EQ(status_to_json(encode_status(0, "")), "{}");
  EXPECT_EQ(status_to_json(encode_status(-2, "")), R"({"code":-2})");
  EXPECT_EQ(response_to_json("\x0a\x05"), std::nullopt);
  EXPECT_EQ(status_to_json("\x12\x05"), std::nullopt);
}

}  // namespace
}  // namespace covet::otlp
