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

}  // namespace
}  // namespace covet::http
