#include "agent/http/request_parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace covet::http {
namespace {

using Event = RequestParser::Event;

// Routes: "/" and "/health" accept GET; "/upload" accepts POST with an 8-byte body limit.
RouteInfo test_route(std::string_view path) {
  RouteInfo route;
  if (path == "/" || path == "/health") {
    route.found = true;
    route.methods = method_bit(Method::get);
    route.allow = "GET, HEAD";
  } else if (path == "/upload") {
    route.found = true;
    route.methods = method_bit(Method::post);
    route.allow = "POST";
    route.max_body = 8;
  }
  return route;
}

// What the parser said about one request, copied out before consume_request().
struct Parsed {
  Method method = Method::other;
  std::string method_name;
  std::string path;
  std::string query;
  std::string body;
  std::string accept;
  std::string accept_encoding;
  bool keep_alive = false;
  bool route_found = false;
  unsigned route_methods = 0;
  std::string route_allow;
};

Parsed copy(const RequestParser& parser) {
  const Request& r = parser.request();
  return Parsed{r.method,
                std::string(r.method_name),
                std::string(r.path),
                std::string(r.query),
                std::string(r.body),
                std::string(r.accept),
                std::string(r.accept_encoding),
                r.keep_alive,
                parser.route().found,
                parser.route().methods,
                std::string(parser.route().allow)};
}

bool operator==(const Parsed& a, const Parsed& b) {
  return a.method == b.method && a.method_name == b.method_name && a.path == b.path &&
         a.query == b.query && a.body == b.body && a.accept == b.accept &&
         a.accept_encoding == b.accept_encoding && a.keep_alive == b.keep_alive &&
         a.route_found == b.route_found && a.route_methods == b.route_methods &&
         a.route_allow == b.route_allow;
}

// The outcome of feeding a byte stream: the requests in order, then how it ended.
struct Outcome {
  std::vector<Parsed> requests;
  int error_status = 0;  // 0: ran out of input (need_more)
};

// Feeds `input` in chunks of at most `chunk` bytes, answering each request like the server:
// consume it and feed the rest of the same chunk again.
Outcome parse(std::string_view input, std::size_t chunk = std::string_view::npos,
              RequestLimits limits = {}) {
  RequestParser parser(limits, test_route);
  Outcome outcome;
  while (!input.empty()) {
    std::string_view piece = input.substr(0, chunk);
    input.remove_prefix(piece.size());
    while (true) {
      std::size_t consumed = 0;
      const Event event = parser.feed(piece, consumed);
      EXPECT_LE(consumed, piece.size());
      piece.remove_prefix(consumed);
      if (event == Event::error) {
        outcome.error_status = parser.error_status();
        return outcome;
      }
      if (event == Event::need_more) {
        EXPECT_TRUE(piece.empty());
        break;
      }
      outcome.requests.push_back(copy(parser));
      parser.consume_request();
    }
  }
  return outcome;
}

TEST(RequestParserTest, ParsesGet) {
  const Outcome outcome = parse("GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 1u);
  const Parsed& r = outcome.requests[0];
  EXPECT_EQ(r.method, Method::get);
  EXPECT_EQ(r.method_name, "GET");
  EXPECT_EQ(r.path, "/health");
  EXPECT_EQ(r.query, "");
  EXPECT_EQ(r.body, "");
  EXPECT_TRUE(r.keep_alive);
  EXPECT_EQ(outcome.error_status, 0);
}

TEST(RequestParserTest, ParsesHead) {
  const Outcome outcome = parse("HEAD / HTTP/1.1\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].method, Method::head);
  EXPECT_EQ(outcome.requests[0].method_name, "HEAD");
}

TEST(RequestParserTest, SplitsQueryFromPath) {
  Outcome outcome = parse("GET /health?verbose&exclude=db HTTP/1.1\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].path, "/health");
  EXPECT_EQ(outcome.requests[0].query, "verbose&exclude=db");

  outcome = parse("GET /health? HTTP/1.1\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].path, "/health");
  EXPECT_EQ(outcome.requests[0].query, "");
}

TEST(RequestParserTest, KeepAliveFollowsVersionAndConnectionHeader) {
  struct Case {
    std::string_view request;
    bool keep_alive;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", true},
      {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
      {"GET / HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\n\r\n", false},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
      {"GET / HTTP/1.0\r\nConnection: close\r\n\r\n", false},
  };
  for (const Case& c : cases) {
    const Outcome outcome = parse(c.request);
    ASSERT_EQ(outcome.requests.size(), 1u) << c.request;
    EXPECT_EQ(outcome.requests[0].keep_alive, c.keep_alive) << c.request;
  }
}

TEST(RequestParserTest, ParsesPipelinedRequestsInOrder) {
  const std::string_view input =
      "GET /health HTTP/1.1\r\n\r\n"
      "POST /upload HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
      "GET /?x=1 HTTP/1.1\r\nConnection: close\r\n\r\n";
  const Outcome outcome = parse(input);
  ASSERT_EQ(outcome.requests.size(), 3u);
  EXPECT_EQ(outcome.requests[0].path, "/health");
  EXPECT_EQ(outcome.requests[1].method, Method::post);
  EXPECT_EQ(outcome.requests[1].body, "hello");
  EXPECT_EQ(outcome.requests[2].path, "/");
  EXPECT_EQ(outcome.requests[2].query, "x=1");
  EXPECT_FALSE(outcome.requests[2].keep_alive);
}

TEST(RequestParserTest, ReportsConsumedBytesPerRequest) {
  const std::string first = "GET / HTTP/1.1\r\n\r\n";
  const std::string input = first + "GET /health HTTP/1.1\r\n\r\n";
  RequestParser parser({}, test_route);
  std::size_t consumed = 0;
  ASSERT_EQ(parser.feed(input, consumed), Event::request);
  EXPECT_EQ(consumed, first.size());
  // Not consumed yet: the same request is reported again and nothing is read.
  ASSERT_EQ(parser.feed(std::string_view(input).substr(consumed), consumed), Event::request);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(parser.request().path, "/");
}

TEST(RequestParserTest, EverySplitGivesTheSameResult) {
  const std::string_view inputs[] = {
      "GET /health?verbose HTTP/1.1\r\nHost: a\r\nUser-Agent: kube-probe/1.29\r\n"
      "Accept: text/plain;q=0.5\r\naccept-encoding:  gzip \r\nACCEPT: */*\r\n\r\n"
      "POST /upload HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
      "GET / HTTP/1.0\r\n\r\n",
      "POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
      "HEAD /health HTTP/1.1\r\nAccept-Encoding: x-gzip;q=0.5, *\r\n\r\n",
      "GET /nope HTTP/1.1\r\n\r\nGET /health HTTP/1.1\r\nbad header\r\n\r\n",
  };
  for (std::string_view input : inputs) {
    const Outcome whole = parse(input);
    // One byte at a time, and every two-piece split.
    const Outcome bytes = parse(input, 1);
    EXPECT_EQ(bytes.requests, whole.requests) << input;
    EXPECT_EQ(bytes.error_status, whole.error_status) << input;
    for (std::size_t chunk = 2; chunk < input.size(); ++chunk) {
      const Outcome split = parse(input, chunk);
      EXPECT_EQ(split.requests, whole.requests) << "chunk " << chunk << ": " << input;
      EXPECT_EQ(split.error_status, whole.error_status) << "chunk " << chunk << ": " << input;
    }
  }
}

TEST(RequestParserTest, AcceptsHeadersExactlyAtTheLimitAndRefusesOneMore) {
  // The request line and header lines, each with its CRLF; the blank line is not counted.
  const std::string request_line = "GET / HTTP/1.1\r\n";
  const std::string name = "X-Pad: ";
  const std::size_t limit = 200;
  const std::string at_limit = request_line + name +
                               std::string(limit - request_line.size() - name.size() - 2, 'a') +
                               "\r\n";
  ASSERT_EQ(at_limit.size(), limit);
  const RequestLimits limits{limit};

  Outcome outcome = parse(at_limit + "\r\n", std::string_view::npos, limits);
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.error_status, 0);

  const std::string over = request_line + name +
                           std::string(limit - request_line.size() - name.size() - 1, 'a') +
                           "\r\n\r\n";
  outcome = parse(over, std::string_view::npos, limits);
  EXPECT_TRUE(outcome.requests.empty());
  EXPECT_EQ(outcome.error_status, 431);
  outcome = parse(over, 1, limits);  // also when it trickles in
  EXPECT_EQ(outcome.error_status, 431);
}

TEST(RequestParserTest, RefusesAnEndlessHeaderBeforeItEnds) {
  RequestParser parser(RequestLimits{1024}, test_route);
  std::string input = "GET / HTTP/1.1\r\nX-Long: " + std::string(2000, 'a');
  std::size_t consumed = 0;
  EXPECT_EQ(parser.feed(input, consumed), Event::error);
  EXPECT_EQ(parser.error_status(), 431);
}

TEST(RequestParserTest, RefusesDeclaredContentLengthOverTheRouteLimitBeforeTheBody) {
  RequestParser parser({}, test_route);
  std::size_t consumed = 0;
  // No body bytes sent at all: the declared length alone is enough.
  const std::string_view head = "POST /upload HTTP/1.1\r\nContent-Length: 9\r\n\r\n";
  EXPECT_EQ(parser.feed(head, consumed), Event::error);
  EXPECT_EQ(parser.error_status(), 413);

  // Exactly the limit is fine.
  const Outcome outcome = parse("POST /upload HTTP/1.1\r\nContent-Length: 8\r\n\r\n12345678");
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].body, "12345678");
}

TEST(RequestParserTest, RefusesChunkedBodyOverTheRouteLimit) {
  const std::string_view within =
      "POST /upload HTTP/1.1\r\nTransfer-Encoding: "
      "chunked\r\n\r\n4\r\nabcd\r\n4\r\nefgh\r\n0\r\n\r\n";
  Outcome outcome = parse(within);
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].body, "abcdefgh");

  const std::string_view over =
      "POST /upload HTTP/1.1\r\nTransfer-Encoding: "
      "chunked\r\n\r\n4\r\nabcd\r\n5\r\nefghi\r\n0\r\n\r\n";
  outcome = parse(over);
  EXPECT_TRUE(outcome.requests.empty());
  EXPECT_EQ(outcome.error_status, 413);
  EXPECT_EQ(parse(over, 1).error_status, 413);
}

TEST(RequestParserTest, AppliesTheDefaultBodyLimitToUnknownPaths) {
  const std::string body(5000, 'x');
  const Outcome outcome = parse("POST /unknown HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + body);
  EXPECT_EQ(outcome.error_status, 413);
}

TEST(RequestParserTest, RefusesGarbageWith400) {
  for (std::string_view garbage :
       {"garbage\r\n\r\n", "GET / HTTP/1.1\r\nbad header\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST /upload HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\n\r\n",
        "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"}) {
    const Outcome outcome = parse(garbage);
    EXPECT_TRUE(outcome.requests.empty()) << garbage;
    EXPECT_EQ(outcome.error_status, 400) << garbage;
  }
}

TEST(RequestParserTest, RefusesOtherHttpVersions) {
  for (std::string_view request :
       {"GET / HTTP/2.0\r\n\r\n", "GET / HTTP/3.0\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"}) {
    const Outcome outcome = parse(request);
    EXPECT_TRUE(outcome.requests.empty()) << request;
    EXPECT_EQ(outcome.error_status, 505) << request;
  }
  // Not a version at all is a plain bad request.
  EXPECT_EQ(parse("GET / HTTX/1.1\r\n\r\n").error_status, 400);
}

TEST(RequestParserTest, AnswersUpgradeRequestsWithoutUpgrading) {
  const Outcome outcome = parse(
      "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
      "GET /health HTTP/1.1\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 2u);
  EXPECT_EQ(outcome.requests[1].path, "/health");
}

TEST(RequestParserTest, PassesRouteInfoThrough) {
  RequestParser parser({}, test_route);
  std::size_t consumed = 0;
  ASSERT_EQ(parser.feed("DELETE /health HTTP/1.1\r\n\r\n", consumed), Event::request);
  EXPECT_EQ(parser.request().method, Method::del);
  EXPECT_EQ(parser.request().method_name, "DELETE");
  EXPECT_TRUE(parser.route().found);
  EXPECT_EQ(parser.route().methods, method_bit(Method::get));
  EXPECT_EQ(parser.route().allow, "GET, HEAD");
  parser.consume_request();

  ASSERT_EQ(parser.feed("GET /missing HTTP/1.1\r\n\r\n", consumed), Event::request);
  EXPECT_FALSE(parser.route().found);
  EXPECT_EQ(parser.request().path, "/missing");
}

// A route whose handler keeps bodies lends the buffer a body of declared length is read
// into, and the handler may move it out; the next request gets a buffer of its own.
TEST(RequestParserTest, ReadsABodyIntoTheRoutesBufferAndLetsTheHandlerTakeIt) {
  std::vector<std::size_t> lent;
  RequestParser parser({}, [&](std::string_view path) {
    RouteInfo route = test_route(path);
    route.max_body = 1024;
    route.body_buffer = [&lent](std::size_t bytes) {
      lent.push_back(bytes);
      std::string buffer;
      buffer.reserve(100);
      return buffer;
    };
    return route;
  });
  // Longer than std::string's inline capacity, which would hold a short body anyway.
  const std::string first(40, 'a');
  const std::string second(30, 'b');
  std::size_t consumed = 0;
  ASSERT_EQ(parser.feed("POST /upload HTTP/1.1\r\nContent-Length: 40\r\n\r\n" + first.substr(0, 10),
                        consumed),
            Event::need_more);
  ASSERT_EQ(lent, std::vector<std::size_t>{40});
  ASSERT_EQ(parser.feed(first.substr(10), consumed), Event::request);
  std::string* storage = parser.request().body_storage;
  ASSERT_NE(storage, nullptr);
  EXPECT_EQ(*storage, first);
  EXPECT_EQ(storage->capacity(), 100u);  // the lent buffer, not one grown by the parser
  const std::string taken = std::move(*storage);
  EXPECT_EQ(taken, first);
  parser.consume_request();

  ASSERT_EQ(parser.feed("POST /upload HTTP/1.1\r\nContent-Length: 30\r\n\r\n" + second, consumed),
            Event::request);
  EXPECT_EQ(lent, (std::vector<std::size_t>{40, 30}));
  EXPECT_EQ(parser.request().body, second);
  parser.consume_request();

  // Chunked: no declared length, so nothing is lent; the parser's own buffer grows.
  ASSERT_EQ(parser.feed("POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "2\r\nxy\r\n0\r\n\r\n",
                        consumed),
            Event::request);
  EXPECT_EQ(lent.size(), 2u);
  EXPECT_EQ(parser.request().body, "xy");
}

// The connection reads the rest of a lent body straight into it: body_room() is where, it
// never reaches past the declared length (a pipelined request behind it stays unread), and
// it grows with what has arrived rather than all at once.
TEST(RequestParserTest, ReadsTheRestOfALentBodyInPlace) {
  RequestParser parser({}, [](std::string_view path) {
    RouteInfo route = test_route(path);
    route.max_body = 1 << 20;
    route.body_buffer = [](std::size_t bytes) {
      std::string buffer;
      buffer.reserve(bytes);
      return buffer;
    };
    return route;
  });
  std::string body(300 * 1024, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 23);
  std::size_t consumed = 0;
  EXPECT_TRUE(parser.body_room().empty());  // no request yet
  ASSERT_EQ(parser.feed("POST /upload HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) +
                            "\r\n\r\n" + body.substr(0, 1000),
                        consumed),
            Event::need_more);
  std::size_t filled = 1000;
  std::vector<std::size_t> rooms;
  const char* storage = nullptr;
  while (filled < body.size()) {
    const std::span<char> room = parser.body_room();
    ASSERT_FALSE(room.empty());
    if (storage == nullptr) storage = room.data() - filled;
    EXPECT_EQ(room.data(), storage + filled);  // one buffer, never moved
    rooms.push_back(room.size());
    // Write part of the room, as a read that returns less than asked does.
    const std::size_t n = std::min(room.size(), std::max<std::size_t>(room.size() / 2, 4096));
    const std::size_t take = std::min(n, body.size() - filled);
    std::memcpy(room.data(), body.data() + filled, take);
    const Event event = parser.feed(std::string_view(room.data(), take), consumed);
    EXPECT_EQ(consumed, take);
    filled += take;
    ASSERT_EQ(event, filled == body.size() ? Event::request : Event::need_more);
  }
  // 64 KiB at first, then at most what has arrived: never the whole 300 KiB up front.
  ASSERT_GE(rooms.size(), 3u);
  EXPECT_EQ(rooms[0], 64u * 1024);
  for (std::size_t room : rooms) EXPECT_LE(room, 300u * 1024 - 1000);
  EXPECT_EQ(parser.request().body, body);
  EXPECT_EQ(parser.request().body.data(), storage);
  EXPECT_TRUE(parser.body_room().empty());  // complete: nothing more is read into it
  parser.consume_request();
  EXPECT_TRUE(parser.body_room().empty());

  // The room ends where the body does, so the next request is never read into it.
  ASSERT_EQ(parser.feed("POST /upload HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", consumed),
            Event::need_more);
  const std::span<char> room = parser.body_room();
  ASSERT_EQ(room.size(), 7u);
  std::memcpy(room.data(), "defghij", 7);
  ASSERT_EQ(parser.feed(std::string_view(room.data(), 7), consumed), Event::request);
  EXPECT_EQ(parser.request().body, "abcdefghij");
  parser.consume_request();

  // No room for a chunked body, nor for a route that lends no buffer.
  ASSERT_EQ(
      parser.feed("POST /upload HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy", consumed),
      Event::need_more);
  EXPECT_TRUE(parser.body_room().empty());
  RequestParser plain({}, [](std::string_view path) {
    RouteInfo route = test_route(path);
    route.max_body = 1 << 20;
    return route;
  });
  ASSERT_EQ(plain.feed("POST /upload HTTP/1.1\r\nContent-Length: 100\r\n\r\n", consumed),
            Event::need_more);
  EXPECT_TRUE(plain.body_room().empty());
}

// A recycled buffer comes with an earlier body's size and bytes: the room covers what it
// holds at once, the new body is written over it, and nothing of the old one is left in
// the request, whether the new body is shorter or longer.
TEST(RequestParserTest, ALentBufferWithAnEarlierBodyIsOverwrittenNotAppendedTo) {
  const std::string stale(100 * 1024, 's');
  const char* lent_memory = nullptr;
  RequestParser parser({}, [&](std::string_view path) {
    RouteInfo route = test_route(path);
    route.max_body = 1 << 20;
    route.body_buffer = [&](std::size_t bytes) {
      std::string buffer = stale;
      buffer.reserve(bytes);
      lent_memory = buffer.data();
      return buffer;
    };
    return route;
  });
  for (const std::size_t length : {std::size_t{70 * 1024}, std::size_t{130 * 1024}}) {
    std::string body(length, '\0');
    for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + i % 19);
    std::size_t consumed = 0;
    ASSERT_EQ(parser.feed("POST /upload HTTP/1.1\r\nContent-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10),
                          consumed),
              Event::need_more);
    std::size_t filled = 10;
    std::size_t first_room = 0;
    while (filled < body.size()) {
      const std::span<char> room = parser.body_room();
      ASSERT_FALSE(room.empty());
      if (first_room == 0) first_room = room.size();
      const std::size_t take = std::min(room.size(), body.size() - filled);
      std::memcpy(room.data(), body.data() + filled, take);
      ASSERT_EQ(parser.feed(std::string_view(room.data(), take), consumed),
                filled + take == body.size() ? Event::request : Event::need_more);
      filled += take;
    }
    // All the stale bytes are room at once (up to the declared length), not 64 KiB.
    EXPECT_EQ(first_room, std::min(stale.size(), body.size()) - 10);
    EXPECT_EQ(parser.request().body.size(), body.size());
    EXPECT_EQ(parser.request().body, body);
    EXPECT_EQ(parser.request().body.data(), lent_memory);
    parser.consume_request();
  }
}

TEST(RequestParserTest, LooksUpTheRouteOncePerRequest) {
  int lookups = 0;
  RequestParser parser({}, [&](std::string_view path) {
    ++lookups;
    return test_route(path);
  });
  std::size_t consumed = 0;
  const std::string_view input = "GET / HTTP/1.1\r\n\r\n";
  for (char c : input) {
    parser.feed(std::string_view(&c, 1), consumed);
  }
  EXPECT_EQ(lookups, 1);
}

TEST(RequestParserTest, TracksRequestInProgress) {
  RequestParser parser({}, test_route);
  std::size_t consumed = 0;
  EXPECT_FALSE(parser.in_progress());
  EXPECT_EQ(parser.feed("\r\n", consumed), Event::need_more);  // stray CRLF starts nothing
  EXPECT_FALSE(parser.in_progress());
  EXPECT_EQ(parser.feed("G", consumed), Event::need_more);
  EXPECT_TRUE(parser.in_progress());
  EXPECT_EQ(parser.feed("ET / HTTP/1.1\r\n\r\n", consumed), Event::request);
  EXPECT_FALSE(parser.in_progress());
  parser.consume_request();
  EXPECT_FALSE(parser.in_progress());
}

TEST(RequestParserTest, ErrorsAreSticky) {
  RequestParser parser({}, test_route);
  std::size_t consumed = 0;
  ASSERT_EQ(parser.feed("garbage\r\n\r\n", consumed), Event::error);
  EXPECT_EQ(parser.error_status(), 400);
  EXPECT_FALSE(parser.error_reason().empty());
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\n\r\n", consumed), Event::error);
  EXPECT_EQ(consumed, 0u);
  parser.consume_request();  // no request to consume: still in error
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\n\r\n", consumed), Event::error);
  EXPECT_EQ(parser.error_status(), 400);
}

TEST(RequestParserTest, ViewsStayValidUntilConsumed) {
  RequestParser parser({}, test_route);
  std::string input = "POST /upload?a=b HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody";
  std::size_t consumed = 0;
  ASSERT_EQ(parser.feed(input, consumed), Event::request);
  input.assign(input.size(), 'z');  // the caller's buffer is reused for the next read
  EXPECT_EQ(parser.request().path, "/upload");
  EXPECT_EQ(parser.request().query, "a=b");
  EXPECT_EQ(parser.request().body, "body");
  EXPECT_EQ(parser.request().method_name, "POST");
}

TEST(RequestParserTest, KeepsAcceptAndAcceptEncoding) {
  const Outcome outcome = parse(
      "GET /metrics HTTP/1.1\r\nHost: x\r\n"
      "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n"
      "Accept-Encoding: gzip\r\nUser-Agent: Prometheus/2.45.0\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].accept,
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
  EXPECT_EQ(outcome.requests[0].accept_encoding, "gzip");
}

TEST(RequestParserTest, AbsentAcceptFieldsAreEmpty) {
  const Outcome outcome = parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].accept, "");
  EXPECT_EQ(outcome.requests[0].accept_encoding, "");
}

TEST(RequestParserTest, MatchesFieldNamesWithoutCase) {
  const Outcome outcome = parse("GET / HTTP/1.1\r\nACCEPT: a/b\r\naCCEPT-eNCODING: br\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].accept, "a/b");
  EXPECT_EQ(outcome.requests[0].accept_encoding, "br");
}

TEST(RequestParserTest, KeepsNoOtherFieldEvenWhenItLooksAlike) {
  const Outcome outcome = parse(
      "GET / HTTP/1.1\r\nAccept-Language: en\r\nAccepts: x/y\r\nX-Accept: x/y\r\n"
      "Accept-Encodings: gzip\r\nAccept-Encoding-X: gzip\r\nAccept-Charset: utf-8\r\n"
      "Content-Encoding: gzip\r\nA: x/y\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].accept, "");
  EXPECT_EQ(outcome.requests[0].accept_encoding, "");
}

TEST(RequestParserTest, JoinsRepeatedFieldsAndTrimsEachValue) {
  const Outcome outcome = parse(
      "GET / HTTP/1.1\r\nAccept:   text/plain  \r\nAccept-Encoding: gzip\r\n"
      "Accept:\t*/*;q=0.1\t\r\nAccept: \r\nAccept-Encoding:br , deflate\r\n"
      "accept: application/json\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 1u);
  // The empty Accept line adds no element, so no ", , " appears.
  EXPECT_EQ(outcome.requests[0].accept, "text/plain, */*;q=0.1, application/json");
  EXPECT_EQ(outcome.requests[0].accept_encoding, "gzip, br , deflate");
}

TEST(RequestParserTest, AFieldWithOnlyEmptyValuesStaysEmpty) {
  const Outcome outcome = parse("GET / HTTP/1.1\r\nAccept:\r\nAccept:   \r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_EQ(outcome.requests[0].accept, "");
}

TEST(RequestParserTest, StartsEachPipelinedRequestWithoutTheLastOnesFields) {
  const Outcome outcome = parse(
      "GET / HTTP/1.1\r\nAccept: a/b\r\nAccept-Encoding: gzip\r\n\r\n"
      "GET /health HTTP/1.1\r\n\r\n"
      "GET / HTTP/1.1\r\nAccept: c/d\r\n\r\n");
  ASSERT_EQ(outcome.requests.size(), 3u);
  EXPECT_EQ(outcome.requests[0].accept, "a/b");
  EXPECT_EQ(outcome.requests[0].accept_encoding, "gzip");
  EXPECT_EQ(outcome.requests[1].accept, "");
  EXPECT_EQ(outcome.requests[1].accept_encoding, "");
  EXPECT_EQ(outcome.requests[2].accept, "c/d");
  EXPECT_EQ(outcome.requests[2].accept_encoding, "");
}

TEST(RequestParserTest, IgnoresAcceptInChunkedTrailers) {
  const std::string_view input =
      "POST /upload HTTP/1.1\r\nAccept: a/b\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\nAccept: c/d\r\nAccept-Encoding: gzip\r\n"
      "Accept: a-trailer-long-enough-to-move-any-buffer-it-were-appended-to/x\r\n\r\n";
  for (std::size_t chunk : {std::string_view::npos, std::size_t{1}}) {
    const Outcome outcome = parse(input, chunk);
    ASSERT_EQ(outcome.requests.size(), 1u);
    EXPECT_EQ(outcome.requests[0].body, "abc");
    EXPECT_EQ(outcome.requests[0].accept, "a/b");
    EXPECT_EQ(outcome.requests[0].accept_encoding, "");
  }
}

TEST(RequestParserTest, KeptFieldsStayWithinTheHeaderLimit) {
  const RequestLimits limits{512};
  std::string input = "GET / HTTP/1.1\r\n";
  // Repeated lines: each adds its value plus ", " to the kept text, and more to the count.
  while (input.size() + 32 < limits.max_header_bytes) input += "Accept: text/plain\r\n";
  Outcome outcome = parse(input + "\r\n", std::string_view::npos, limits);
  ASSERT_EQ(outcome.requests.size(), 1u);
  EXPECT_LE(outcome.requests[0].accept.size(), limits.max_header_bytes);
  EXPECT_EQ(outcome.requests[0].accept.substr(0, 22), "text/plain, text/plain");

  input += "Accept: " + std::string(64, 'a') + "\r\n\r\n";
  outcome = parse(input, std::string_view::npos, limits);
  EXPECT_TRUE(outcome.requests.empty());
  EXPECT_EQ(outcome.error_status, 431);
}

TEST(RequestParserTest, AcceptViewsStayValidUntilConsumed) {
  RequestParser parser({}, test_route);
  std::string input = "GET / HTTP/1.1\r\nAccept: text/plain\r\nAccept-Encoding: gzip\r\n\r\n";
  std::size_t consumed = 0;
  ASSERT_EQ(parser.feed(input, consumed), Event::request);
  input.assign(input.size(), 'z');
  EXPECT_EQ(parser.request().accept, "text/plain");
  EXPECT_EQ(parser.request().accept_encoding, "gzip");
  parser.consume_request();
  EXPECT_EQ(parser.request().accept, "");
  EXPECT_EQ(parser.request().accept_encoding, "");
}

}  // namespace
}  // namespace covet::http
