#include "agent/http/response.h"

#include <gtest/gtest.h>

#include <string>

namespace covet::http {
namespace {

TEST(ResponseTest, KnowsTheReasonPhraseOfEveryStatusWeSend) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(204), "No Content");
  EXPECT_EQ(reason_phrase(400), "Bad Request");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(405), "Method Not Allowed");
  EXPECT_EQ(reason_phrase(408), "Request Timeout");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(415), "Unsupported Media Type");
  EXPECT_EQ(reason_phrase(429), "Too Many Requests");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(500), "Internal Server Error");
  EXPECT_EQ(reason_phrase(503), "Service Unavailable");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(299), "Unknown");
}

TEST(ResponseTest, SerializesStatusLineTypeAndLength) {
  Response response;
  response.body = "ok\n";
  const Reply reply = PreparedResponse::make(response);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->head,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n");
  EXPECT_EQ(reply->body, "ok\n");
}

TEST(ResponseTest, AddsAllowWhenSet) {
  Response response;
  response.status = 405;
  response.content_type = "text/plain";
  response.allow = "GET, HEAD";
  const Reply reply = PreparedResponse::make(response);
  EXPECT_EQ(reply->head,
            "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: "
            "0\r\nAllow: GET, HEAD\r\n");
}

TEST(ResponseTest, NoContentHasNoBodyAndNoLength) {
  for (int status : {204, 304}) {
    Response response;
    response.status = status;
    response.body = "dropped";
    const Reply reply = PreparedResponse::make(response);
    EXPECT_EQ(reply->head, "HTTP/1.1 " + std::to_string(status) + " " +
                               std::string(reason_phrase(status)) + "\r\n");
    EXPECT_TRUE(reply->body.empty());
  }
}

TEST(ResponseTest, RefusesHeaderInjectionWith500) {
  Response response;
  response.content_type = "text/plain\r\nSet-Cookie: evil=1";
  response.body = "secret";
  const Reply reply = PreparedResponse::make(response);
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->head.find("Set-Cookie"), std::string::npos);
  EXPECT_EQ(reply->body, "internal server error\n");
}

TEST(ResponseTest, AddsContentEncodingAndVaryWhenSet) {
  Response response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.content_encoding = "gzip";
  response.vary = "Accept, Accept-Encoding";
  response.body = std::string("\x1f\x8b\x08\x00", 4);
  const Reply reply = PreparedResponse::make(response);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->head,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Encoding: gzip\r\nContent-Length: 4\r\nVary: Accept, Accept-Encoding\r\n");
  EXPECT_EQ(reply->body.size(), 4u);
}

TEST(ResponseTest, VaryWithoutEncodingForAnUncompressedVariant) {
  Response response;
  response.content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
  response.vary = "Accept, Accept-Encoding";
  response.body = "# EOF\n";
  const Reply reply = PreparedResponse::make(response);
  EXPECT_EQ(reply->head,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n"
            "Content-Length: 6\r\nVary: Accept, Accept-Encoding\r\n");
}

TEST(ResponseTest, NotModifiedKeepsVaryButNoContentEncoding) {
  Response response;
  response.status = 304;
  response.content_encoding = "gzip";
  response.vary = "Accept, Accept-Encoding";
  const Reply reply = PreparedResponse::make(response);
  EXPECT_EQ(reply->head, "HTTP/1.1 304 Not Modified\r\nVary: Accept, Accept-Encoding\r\n");
}

TEST(ResponseTest, RefusesInjectionThroughEncodingOrVaryWith500) {
  Response encoding;
  encoding.content_encoding = "gzip\r\nSet-Cookie: evil=1";
  encoding.body = "\x1f\x8b";
  Response vary;
  vary.vary = "Accept\nSet-Cookie: evil=1";
  for (const Response& response : {encoding, vary}) {
    const Reply reply = PreparedResponse::make(response);
    EXPECT_EQ(reply->status, 500);
    EXPECT_EQ(reply->head,
              "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; "
              "charset=utf-8\r\nContent-Length: 22\r\n");
    EXPECT_EQ(reply->body, "internal server error\n");
  }
}

}  // namespace
}  // namespace covet::http
