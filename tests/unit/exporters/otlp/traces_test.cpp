#include "exporters/otlp/traces.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "exporters/otlp/plain_shapes.h"
#include "exporters/otlp/wire.h"
#include "tests/unit/exporters/otlp/request_builder.h"

namespace covet::otlp {
namespace {

using namespace covet::otlp::testing;

std::string fixture(const char* name) {
  std::ifstream file(std::string(COVET_FIXTURES_DIR) + "/otlp/" + name, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// A request with one span whose body is the given fields (ids included or not).
std::string with_span_body(std::string_view body) {
  return request({resource_spans({}, {scope_spans({std::string(body)})})});
}

std::string error_of(std::string_view protobuf) {
  const ValidationResult result = validate_export_request(protobuf);
  EXPECT_FALSE(result.ok);
  return result.error;
}

TEST(OtlpTraces, CountsTheSpansOfARealRequest) {
  const std::string body = fixture("js_sdk_request.pb");
  ASSERT_FALSE(body.empty());
  const ValidationResult result = validate_export_request(body);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 2u);
  EXPECT_EQ(result.resource_spans, 1u);
}

TEST(OtlpTraces, CountsTheSpansTheJsSdkSends) {
  // Captured from @opentelemetry/exporter-trace-otlp-proto (tests/fixtures/otlp/README.md).
  const std::string body = fixture("js_sdk_export.pb");
  ASSERT_FALSE(body.empty());
  const ValidationResult result = validate_export_request(body);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 2u);
  const std::string enriched =
      enrich_resources(body, {{"k8s.pod.name", "ours"}, {"k8s.node.name", "n1"}});
  EXPECT_EQ(validate_export_request(enriched).spans, 2u);
  EXPECT_EQ(resource_attributes(enriched)[0], (Attributes{{"service.name", "covet-example"},
                                                          {"k8s.pod.name", "app-pod"},
                                                          {"k8s.node.name", "n1"}}));
  EXPECT_EQ(scope_spans_bytes(enriched), scope_spans_bytes(body));
}

TEST(OtlpTraces, AnEmptyRequestIsValid) {
  // The spec: a request that carries no telemetry is answered with success.
  const ValidationResult result = validate_export_request("");
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(result.spans, 0u);
}

TEST(OtlpTraces, CountsAcrossResourcesAndScopes) {
  const std::string two_scopes =
      resource_spans(attribute(1, "service.name", "a"),
                     {scope_spans({span(trace_id(1), span_id(1)), span(trace_id(1), span_id(2))}),
                      scope_spans({span(trace_id(2), span_id(3))})});
  const std::string one_scope = resource_spans({}, {scope_spans({span(trace_id(3), span_id(4))})});
  const ValidationResult result = validate_export_request(request({two_scopes, one_scope}));
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 4u);
  EXPECT_EQ(result.resource_spans, 2u);
}

TEST(OtlpTraces, ConcatenatedRequestsAreOneRequest) {
  const std::string first = simple_request(3, "a");
  const std::string second = fixture("js_sdk_request.pb");
  const ValidationResult result = validate_export_request(first + second);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 5u);
  EXPECT_EQ(result.resource_spans, 2u);
}

TEST(OtlpTraces, SkipsUnknownFieldsAtEveryLevel) {
  std::string unknown;
  wire::put_varint_field(unknown, 99, 1);
  wire::put_bytes_field(unknown, 1000, "\xff\xff");  // not UTF-8: unknown, so not a string
  wire::put_fixed32_field(unknown, 77, 5);
  const std::string body = span(trace_id(1), span_id(1), "x", unknown);
  const std::string scope = scope_spans({body}) + unknown;
  const std::string resource = attribute(1, "k", "v") + unknown;
  const std::string protobuf = request({resource_spans(resource, {scope}) + unknown}) + unknown;
  const ValidationResult result = validate_export_request(protobuf);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 1u);
}

// A span as SDKs send it: every field the schema has for it, short lengths, one-byte varints.
std::string sdk_shaped_span(std::string_view more_attributes = {}) {
  std::string extra = message(3, "rojo=00f067aa0ba902b7") + message(4, span_id(9));
  extra += message(9, key_value("http.request.method", string_value("GET")));
  extra += message(9, key_value("http.response.status_code", int_value(200)));
  extra += message(9, key_value("url.full", string_value(std::string(300, 'u'))));
  extra.append(more_attributes);
  wire::put_varint_field(extra, 10, 1);
  std::string event_body;
  wire::put_fixed64_field(event_body, 1, 5);
  event_body += message(2, "exception") + message(3, key_value("e", string_value("x")));
  wire::put_varint_field(event_body, 4, 0);
  extra += message(11, event_body);
  wire::put_varint_field(extra, 12, 2);
  std::string link_body = message(1, trace_id(7)) + message(2, span_id(7)) + message(3, "") +
                          message(4, key_value("l", string_value("y")));
  wire::put_varint_field(link_body, 5, 0);
  wire::put_fixed32_field(link_body, 6, 0x100);
  extra += message(13, link_body);
  wire::put_varint_field(extra, 14, 0);
  std::string status_body = message(2, "boom");
  wire::put_varint_field(status_body, 3, 2);
  extra += message(15, status_body);
  wire::put_fixed32_field(extra, 16, 0x301);
  return span(trace_id(1), span_id(1), "GET /api/orders/:id", extra);
}

TEST(OtlpTraces, AcceptsEveryKnownSpanField) {
  // A negative int (ten varint bytes) and nested values: this span takes the general walk.
  std::string extra = message(9, key_value("n", int_value(-5)));
  // Nested values: an array of a kvlist of bytes and a double.
  std::string kvlist;
  std::string inner = message(7, std::string("\0\1", 2));
  kvlist += message(1, key_value("b", inner));
  std::string dbl;
  wire::put_double_field(dbl, 4, 1.5);
  kvlist += message(1, key_value("d", dbl));
  std::string bool_value;
  wire::put_varint_field(bool_value, 2, 1);
  const std::string array = message(1, message(6, kvlist)) + message(1, bool_value);
  extra += message(9, key_value("nested", message(5, array)));
  const ValidationResult result = validate_export_request(with_span_body(sdk_shaped_span(extra)));
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 1u);
  EXPECT_FALSE(detail::plain_span(sdk_shaped_span(extra)));
}

TEST(OtlpTraces, RejectsBadIdsWithTheirPlace) {
  EXPECT_EQ(error_of(with_span_body(span(std::string(15, '\x01'), span_id(1)))),
            "resource_spans[0].scope_spans[0].spans[0].trace_id: 15 bytes, expected 16");
  EXPECT_EQ(error_of(with_span_body(span(std::string(16, '\0'), span_id(1)))),
            "resource_spans[0].scope_spans[0].spans[0].trace_id: all zero, which is an invalid id");
  EXPECT_EQ(error_of(with_span_body(span(trace_id(1), std::string(9, '\x01')))),
            "resource_spans[0].scope_spans[0].spans[0].span_id: 9 bytes, expected 8");
  EXPECT_EQ(error_of(with_span_body(span(trace_id(1), std::string(8, '\0')))),
            "resource_spans[0].scope_spans[0].spans[0].span_id: all zero, which is an invalid id");
  EXPECT_EQ(error_of(with_span_body(message(2, span_id(1)))),
            "resource_spans[0].scope_spans[0].spans[0].trace_id: 0 bytes, expected 16");
  EXPECT_EQ(error_of(with_span_body(message(1, trace_id(1)))),
            "resource_spans[0].scope_spans[0].spans[0].span_id: 0 bytes, expected 8");
  EXPECT_EQ(
      error_of(with_span_body(span(trace_id(1), span_id(1), "x", message(4, "\x01\x02\x03")))),
      "resource_spans[0].scope_spans[0].spans[0].parent_span_id: 3 bytes, expected 8");
  // An empty parent is a root span.
  EXPECT_TRUE(
      validate_export_request(with_span_body(span(trace_id(1), span_id(1), "x", message(4, ""))))
          .ok);
  // A link to an invalid (all-zero) context is kept; a link of the wrong size is not.
  const std::string zero_link =
      message(13, message(1, std::string(16, '\0')) + message(2, std::string(8, '\0')));
  EXPECT_TRUE(
      validate_export_request(with_span_body(span(trace_id(1), span_id(1), "x", zero_link))).ok);
  EXPECT_EQ(error_of(with_span_body(
                span(trace_id(1), span_id(1), "x", message(13, message(1, trace_id(1)))))),
            "resource_spans[0].scope_spans[0].spans[0].links[0].span_id: 0 bytes, expected 8");
}

TEST(OtlpTraces, TheErrorNamesTheSpanByItsIndex) {
  const std::string scope0 = scope_spans({span(trace_id(1), span_id(1))});
  const std::string scope1 =
      scope_spans({span(trace_id(1), span_id(2)), span(trace_id(1), span_id(3)),
                   span(trace_id(1), span_id(4)), span("short", span_id(5))});
  const std::string protobuf =
      request({resource_spans({}, {scope0}), resource_spans({}, {scope0, scope1})});
  const ValidationResult result = validate_export_request(protobuf);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error,
            "resource_spans[1].scope_spans[1].spans[3].trace_id: 5 bytes, expected 16");
}

TEST(OtlpTraces, RejectsWrongWireTypesOfKnownFields) {
  std::string kind_as_bytes = message(6, "x");
  EXPECT_EQ(error_of(with_span_body(span(trace_id(1), span_id(1), "x", kind_as_bytes))),
            "resource_spans[0].scope_spans[0].spans[0].kind: wrong wire type");
  std::string start_as_varint;
  wire::put_varint_field(start_as_varint, 7, 1);
  EXPECT_EQ(error_of(with_span_body(span(trace_id(1), span_id(1), "x", start_as_varint))),
            "resource_spans[0].scope_spans[0].spans[0].start_time_unix_nano: wrong wire type");
  std::string spans_as_varint = message(1, "");
  wire::put_varint_field(spans_as_varint, 2, 1);
  EXPECT_EQ(error_of(request({resource_spans({}, {spans_as_varint})})),
            "resource_spans[0].scope_spans[0].spans[0]: wrong wire type");
  std::string resource_spans_as_fixed;
  wire::put_fixed64_field(resource_spans_as_fixed, 1, 0);
  EXPECT_EQ(error_of(resource_spans_as_fixed), "resource_spans[0]: wrong wire type");
}

TEST(OtlpTraces, RejectsInvalidUtf8InStrings) {
  EXPECT_EQ(error_of(with_span_body(span(trace_id(1), span_id(1), "\xc3\x28"))),
            "resource_spans[0].scope_spans[0].spans[0].name: invalid UTF-8");
  EXPECT_EQ(error_of(request({resource_spans(attribute(1, "k", "\xed\xa0\x80"), {})})),
            "resource_spans[0].resource.attributes[0].value.string_value: invalid UTF-8");
  // Bytes values are bytes.
  EXPECT_TRUE(validate_export_request(
                  request({resource_spans(message(1, key_value("k", message(7, "\xff"))), {})}))
                  .ok);
}

TEST(OtlpTraces, RejectsTruncationAnywhere) {
  const std::string body = fixture("js_sdk_request.pb");
  ASSERT_TRUE(validate_export_request(body).ok);
  // Every proper prefix that ends inside a field is malformed; cutting exactly between two
  // top-level fields leaves a valid request, and there is only one here.
  for (std::size_t size = 1; size < body.size(); ++size) {
    const ValidationResult result = validate_export_request(body.substr(0, size));
    EXPECT_FALSE(result.ok) << size;
    EXPECT_FALSE(result.error.empty()) << size;
  }
  EXPECT_EQ(error_of(body.substr(0, 40)), "length past the end of the message");
}

TEST(OtlpTraces, RejectsValuesNestedTooDeep) {
  std::string value = string_value("leaf");
  for (int i = 0; i < 70; ++i) value = message(5, message(1, value));
  const ValidationResult result =
      validate_export_request(request({resource_spans(message(1, key_value("deep", value)), {})}));
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find("values nested too deep"), std::string::npos) << result.error;
  std::string shallow = string_value("leaf");
  for (int i = 0; i < 30; ++i) shallow = message(5, message(1, shallow));
  EXPECT_TRUE(
      validate_export_request(request({resource_spans(message(1, key_value("ok", shallow)), {})}))
          .ok);
}

// The common attribute shapes have a fast path in the validator; it must accept and
// refuse exactly what the general walk does.
TEST(OtlpTraces, PlainAttributesAreCheckedLikeAnyOther) {
  const auto resource_with = [](std::string_view key, std::string_view any_value) {
    return request({resource_spans(message(1, key_value(key, any_value)), {})});
  };
  std::string boolean;
  wire::put_varint_field(boolean, 2, 1);
  std::string real;
  wire::put_double_field(real, 4, 0.25);
  for (const std::string& value :
       {string_value("GET"), string_value(""), string_value("Ã©tÃ©"), int_value(0),
        int_value(1LL << 40), int_value(-1), boolean, real, std::string()}) {
    const ValidationResult result = validate_export_request(resource_with("http.method", value));
    EXPECT_TRUE(result.ok) << result.error;
  }
  EXPECT_TRUE(validate_export_request(resource_with("", string_value("x"))).ok);
  // Not all ASCII: key and value are then checked one by one (a varint's bytes are not text).
  EXPECT_TRUE(validate_export_request(resource_with("cl\xc3\xa9", int_value(1LL << 40))).ok);
  EXPECT_TRUE(validate_export_request(resource_with("cl\xc3\xa9", string_value("\xc3\xa9"))).ok);
  EXPECT_EQ(error_of(resource_with("\xff", int_value(1LL << 40))),
            "resource_spans[0].resource.attributes[0].key: invalid UTF-8");

  EXPECT_EQ(error_of(resource_with("\xff", string_value("x"))),
            "resource_spans[0].resource.attributes[0].key: invalid UTF-8");
  EXPECT_EQ(error_of(resource_with("k", string_value("\xc3"))),
            "resource_spans[0].resource.attributes[0].value.string_value: invalid UTF-8");
  // Ten varint bytes whose last carries more than bit 63.
  EXPECT_EQ(error_of(resource_with("k", "\x18\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02")),
            "resource_spans[0].resource.attributes[0].value: truncated or overlong varint");
  EXPECT_EQ(error_of(resource_with("k", std::string("\x21\x00\x00\x00", 4))),
            "resource_spans[0].resource.attributes[0].value: truncated fixed64");
  EXPECT_EQ(error_of(resource_with("k", "\x0a\x05GET")),
            "resource_spans[0].resource.attributes[0].value: length past the end of the message");
}

TEST(OtlpTraces, PlainAttributesCountTowardsTheNestingLimit) {
  // A KeyValue at the bottom of N nested kvlist_values: its value is AnyValue level N + 1.
  const auto nested = [](int levels) {
    std::string kv = key_value("leaf", string_value("x"));
    for (int i = 0; i < levels; ++i) kv = key_value("list", message(6, message(1, kv)));
    return request({resource_spans(message(1, kv), {})});
  };
  EXPECT_TRUE(validate_export_request(nested(63)).ok) << validate_export_request(nested(63)).error;
  const ValidationResult too_deep = validate_export_request(nested(64));
  EXPECT_FALSE(too_deep.ok);
  EXPECT_NE(too_deep.error.find("values nested too deep"), std::string::npos) << too_deep.error;
}

TEST(OtlpTraces, SpansInTheSdksShapeTakeTheShortcut) {
  // The shortcut is what makes a check fast: a span SDKs send must take it, or the
  // receiver is twice as slow (bench/otlp_codec) and nothing else would say so.
  EXPECT_TRUE(detail::plain_span(sdk_shaped_span()));
  EXPECT_TRUE(detail::plain_span(sdk_shaped_span(message(9, key_value("b", "\x10\x01")))));
  EXPECT_TRUE(detail::plain_span(span(trace_id(1), span_id(1), "GET /", message(4, ""))));
  const ValidationResult result = validate_export_request(with_span_body(sdk_shaped_span()));
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 1u);
}

TEST(OtlpTraces, SpansInTheSdksShapeAreCheckedLikeAnyOther) {
  const auto same_error = [](std::string_view body) {
    const std::string request_bytes = with_span_body(body);
    const ValidationResult general =
        detail::validate_export_request_without_shortcuts(request_bytes);
    EXPECT_FALSE(general.ok);
    return general.error == error_of(request_bytes) ? general.error : "differs: " + general.error;
  };
  const std::string where = "resource_spans[0].scope_spans[0].spans[0].";
  const auto body_with = [](std::string_view trace, std::string_view id, std::string_view extra) {
    return span(trace, id, "GET /", extra);
  };
  EXPECT_EQ(same_error(body_with(std::string(16, '\0'), span_id(1), "")),
            where + "trace_id: all zero, which is an invalid id");
  EXPECT_EQ(same_error(body_with(std::string(8, '\0'), span_id(1), "")),
            where + "trace_id: 8 bytes, expected 16");
  EXPECT_EQ(same_error(body_with(trace_id(1), std::string(8, '\0'), "")),
            where + "span_id: all zero, which is an invalid id");
  EXPECT_EQ(same_error(body_with(trace_id(1), span_id(1), message(4, std::string(8, '\0')))),
            where + "parent_span_id: all zero, which is an invalid id");
  EXPECT_EQ(same_error(body_with(trace_id(1), span_id(1), message(4, "\x01\x02"))),
            where + "parent_span_id: 2 bytes, expected 8");
  EXPECT_EQ(same_error(span(trace_id(1), span_id(1), "caf\xc3")), where + "name: invalid UTF-8");
  EXPECT_EQ(same_error(body_with(trace_id(1), span_id(1), message(3, "\xff"))),
            where + "trace_state: invalid UTF-8");
  EXPECT_EQ(same_error(body_with(trace_id(1), span_id(1), message(9, key_value("\xff", "")))),
            where + "attributes[0].key: invalid UTF-8");
  EXPECT_EQ(same_error(body_with(
                trace_id(1), span_id(1),
                message(9, key_value("k", string_value(std::string(200, 'x') + "\xc3"))))),
            where + "attributes[0].value.string_value: invalid UTF-8");
  EXPECT_EQ(same_error(body_with(trace_id(1), span_id(1), message(11, message(2, "\xc3")))),
            where + "events[0].name: invalid UTF-8");
  EXPECT_EQ(same_error(body_with(trace_id(1), span_id(1), message(11, "\x09\x01\x02"))),
            where + "events[0]: truncated fixed64");
  EXPECT_EQ(same_error(body_with(
                trace_id(1), span_id(1),
                message(13, message(1, std::string(15, '\x01')) + message(2, span_id(1))))),
            where + "links[0].trace_id: 15 bytes, expected 16");
  EXPECT_EQ(same_error(body_with(trace_id(1), span_id(1), message(13, message(1, trace_id(1))))),
            where + "links[0].span_id: 0 bytes, expected 8");
  EXPECT_EQ(same_error(body_with(trace_id(1), span_id(1), message(15, message(2, "\xff")))),
            where + "status.message: invalid UTF-8");
  EXPECT_EQ(same_error(body_with(trace_id(1), span_id(1), std::string("\x85\x01\x01\x02", 4))),
            where.substr(0, where.size() - 1) + ": truncated fixed32");
  EXPECT_EQ(same_error(message(1, trace_id(1)) + message(5, "GET /")),
            where + "span_id: 0 bytes, expected 8");
  // A length past the end of the span, anywhere in it.
  const std::string whole = sdk_shaped_span();
  for (std::size_t cut = 1; cut < whole.size(); ++cut) {
    const std::string request_bytes = with_span_body(whole.substr(0, cut));
    EXPECT_EQ(validate_export_request(request_bytes).error,
              detail::validate_export_request_without_shortcuts(request_bytes).error)
        << "cut at " << cut;
  }
}

TEST(OtlpTraces, RejectsGroups) {
  std::string group = with_span_body(span(trace_id(1), span_id(1)));
  group.push_back('\x1b');  // field 3, wire type 3
  EXPECT_EQ(error_of(group), "groups (wire types 3 and 4) are not used by OTLP");
}

TEST(OtlpTraces, ValidatesALargeRequest) {
  const std::string big = simple_request(20000);
  const ValidationResult result = validate_export_request(big);
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 20000u);
}

TEST(OtlpEnrich, AddsAttributesTheAppDidNotSet) {
  const std::string original = request(
      {resource_spans(attribute(1, "service.name", "shop") + attribute(1, "k8s.pod.name", "own"),
                      {scope_spans({span(trace_id(1), span_id(1))})})});
  const std::string enriched = enrich_resources(
      original, {{"k8s.pod.name", "ours"}, {"k8s.node.name", "node-1"}, {"k8s.node.name", "x"}});
  const ValidationResult result = validate_export_request(enriched);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 1u);
  const auto resources = resource_attributes(enriched);
  ASSERT_EQ(resources.size(), 1u);
  EXPECT_EQ(
      resources[0],
      (Attributes{{"service.name", "shop"}, {"k8s.pod.name", "own"}, {"k8s.node.name", "node-1"}}));
  EXPECT_EQ(scope_spans_bytes(enriched), scope_spans_bytes(original));
}

TEST(OtlpEnrich, CreatesAMissingResourceAndHandlesEachResourceApart) {
  const std::string original =
      request({resource_spans({}, {scope_spans({span(trace_id(1), span_id(1))})}),
               resource_spans(attribute(1, "k8s.pod.name", "app-set"),
                              {scope_spans({span(trace_id(2), span_id(2))})})});
  const std::string enriched = enrich_resources(original, {{"k8s.pod.name", "pod-1"}});
  const ValidationResult result = validate_export_request(enriched);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 2u);
  const auto resources = resource_attributes(enriched);
  ASSERT_EQ(resources.size(), 2u);
  EXPECT_EQ(resources[0], (Attributes{{"k8s.pod.name", "pod-1"}}));
  EXPECT_EQ(resources[1], (Attributes{{"k8s.pod.name", "app-set"}}));
  EXPECT_EQ(scope_spans_bytes(enriched), scope_spans_bytes(original));
}

TEST(OtlpEnrich, ARealRequestKeepsItsOwnPodName) {
  const std::string original = fixture("js_sdk_request.pb");
  const std::string enriched = enrich_resources(
      original, {{"k8s.pod.name", "sidecar-view"}, {"k8s.namespace.name", "shop"}});
  const ValidationResult result = validate_export_request(enriched);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 2u);
  const auto resources = resource_attributes(enriched);
  ASSERT_EQ(resources.size(), 1u);
  EXPECT_EQ(resources[0].size(), 8u);
  EXPECT_EQ(resources[0][6],
            (std::pair<std::string, std::string>{"k8s.pod.name", "app-7d9f-abcde"}));
  EXPECT_EQ(resources[0][7], (std::pair<std::string, std::string>{"k8s.namespace.name", "shop"}));
  EXPECT_EQ(scope_spans_bytes(enriched), scope_spans_bytes(original));
}

TEST(OtlpEnrich, MergesAResourceSplitOverTwoFields) {
  // Protobuf merges repeated occurrences of a message field; a key in either counts.
  const std::string original =
      request({message(1, attribute(1, "a", "1")) + message(1, attribute(1, "b", "2")) +
               message(2, scope_spans({span(trace_id(1), span_id(1))}))});
  const std::string enriched = enrich_resources(original, {{"b", "ours"}, {"c", "3"}});
  ASSERT_TRUE(validate_export_request(enriched).ok);
  EXPECT_EQ(resource_attributes(enriched)[0], (Attributes{{"a", "1"}, {"b", "2"}, {"c", "3"}}));
}

TEST(OtlpEnrich, NothingToAddLeavesTheRequestAsItIs) {
  const std::string original = simple_request(2);
  EXPECT_EQ(enrich_resources(original, {}), original);
  EXPECT_EQ(enrich_resources(original, {{"service.name", "other"}}), original);
  EXPECT_EQ(enrich_resources("", {{"a", "b"}}), "");
}

TEST(OtlpEnrich, LengthsGrowPastOneByteVarints) {
  // A ResourceSpans under 128 bytes whose enriched form needs a two-byte length.
  const std::string original = simple_request(1);
  const std::string enriched = enrich_resources(original, {{"long", std::string(300, 'x')}});
  const ValidationResult result = validate_export_request(enriched);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(resource_attributes(enriched)[0].back().second, std::string(300, 'x'));
}

TEST(OtlpEnrich, KeepsOtherTopLevelFieldsAndSurvivesConcatenation) {
  std::string unknown;
  wire::put_varint_field(unknown, 5, 9);
  const std::string original = simple_request(2, "a") + unknown + simple_request(3, "b");
  const std::string enriched = enrich_resources(original, {{"k8s.pod.name", "p"}});
  const ValidationResult result = validate_export_request(enriched);
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.spans, 5u);
  EXPECT_NE(enriched.find(unknown), std::string::npos);
  for (const auto& attributes : resource_attributes(enriched)) {
    EXPECT_EQ(attributes.back(), (std::pair<std::string, std::string>{"k8s.pod.name", "p"}));
  }
}

// The pipeline hands enrich_resources a buffer of enriched_size_bound bytes, recycled from
// received and exported requests alike: it must be enough for every shape, or the string
// would grow into a buffer no later request can reuse.
TEST(OtlpEnrich, TheSizeBoundHoldsEveryShapeWithoutGrowing) {
  std::string unknown;
  wire::put_varint_field(unknown, 5, 9);
  const ResourceAttributes attributes{{"k8s.pod.name", "checkout-7d9f-abcde"},
                                      {"k8s.namespace.name", "shop"},
                                      {"long", std::string(300, 'x')}};
  const std::vector<std::pair<std::string, std::size_t>> shapes{
      {simple_request(1), 1},
      {fixture("js_sdk_request.pb"), 1},
      // No resource at all, then a resource split over two fields.
      {request({resource_spans({}, {scope_spans({span(trace_id(1), span_id(1))})}),
                message(1, attribute(1, "a", "1")) + message(1, attribute(1, "b", "2")) +
                    message(2, scope_spans({span(trace_id(2), span_id(2))}))}),
       2},
      // Many small ResourceSpans, each under 128 bytes until enriched.
      {simple_request(1, "a") + unknown + simple_request(1, "b") + simple_request(1, "c") +
           simple_request(1, "d"),
       4},
  };
  for (const auto& [original, resource_spans] : shapes) {
    const std::size_t bound = enriched_size_bound(original.size(), resource_spans, attributes);
    std::string buffer;
    buffer.reserve(bound);
    const std::size_t capacity = buffer.capacity();
    const std::string enriched = enrich_resources(original, attributes, std::move(buffer));
    ASSERT_TRUE(validate_export_request(enriched).ok);
    EXPECT_GT(enriched.size(), original.size());
    EXPECT_LE(enriched.size(), bound);
    EXPECT_EQ(enriched.capacity(), capacity);  // built in the buffer it was given
  }
  // Close to the request: a recycled buffer for one fits the other (BufferPool::take takes
  // one at most an eighth larger than asked).
  EXPECT_LE(enriched_size_bound(28393, 1, attributes), 28393 + 28393 / 8);
}

TEST(OtlpEnrich, AnUnreadableRequestComesBackUnchanged) {
  const std::string broken = "\x0a\x05\x0a\x09";
  EXPECT_EQ(enrich_resources(broken, {{"a", "b"}}), broken);
}

TEST(OtlpResponse, FullSuccessIsAnEmptyMessage) { EXPECT_EQ(encode_response(0, ""), ""); }

TEST(OtlpResponse, PartialSuccessCarriesTheCountAndMessage) {
  const std::string response = encode_response(2, "2 spans had no name");
  std::string expected_inner;
  wire::put_varint_field(expected_inner, 1, 2);
  wire::put_bytes_field(expected_inner, 2, "2 spans had no name");
  EXPECT_EQ(response, message(1, expected_inner));
  // The spec's warning case: nothing rejected, a message to pass on.
  EXPECT_EQ(encode_response(0, "slow down"), message(1, message(2, "slow down")));
}

TEST(OtlpResponse, StatusCodesAndMessages) {
  std::string expected;
  wire::put_varint_field(expected, 1, 3);
  wire::put_bytes_field(expected, 2, "malformed");
  EXPECT_EQ(encode_status(3, "malformed"), expected);
  EXPECT_EQ(encode_status(0, ""), "");
  // int32 is sign-extended to ten bytes on the wire.
  EXPECT_EQ(encode_status(-1, "").size(), 11u);
}

}  // namespace
}  // namespace covet::otlp
