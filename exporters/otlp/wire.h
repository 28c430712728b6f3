#pragma once
// The protobuf wire format (https://protobuf.dev/programming-guides/encoding/), just enough
// to walk OTLP messages without a generated schema: a bounds-checked field reader and the
// writer helpers the re-encoders and the tests use.
//
// The reader never reads past its input and never allocates. It rejects what no encoder
// produces and every decoder refuses: truncated fields, varints longer than 10 bytes or past
// 64 bits, field number 0 or past 2^29-1, and groups (wire types 3 and 4, long deprecated,
// never used by OTLP). Unknown field numbers are the caller's to skip: every field comes
// back whole, so skipping one is simply not looking at it.
//
// Pure: no I/O, so it is fuzzed directly (tests/fuzz/otlp_protobuf_fuzz.cpp).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace covet::otlp::wire {

enum class WireType : std::uint8_t {
  varint = 0,
  fixed64 = 1,
  length_delimited = 2,
  start_group = 3,
  end_group = 4,
  fixed32 = 5,
};

struct Field {
  std::uint32_t number = 0;
  WireType type = WireType::varint;
  std::uint64_t value = 0;  // varint, fixed64 and fixed32 fields
  std::string_view bytes;   // the payload of a length-delimited field
  std::string_view raw;     // the whole field, tag included: what copying it verbatim copies
};

// Reads the fields of one message in order. Typical use:
//   Reader reader(message);
//   Field field;
//   while (reader.next(field)) { ... }
//   if (!reader.ok()) -> reader.error()
class Reader {
 public:
  explicit Reader(std::string_view message) : data_(message) {}

  // The next field; false at the end of the message or at the first malformed byte.
  bool next(Field& field);
  bool ok() const { return error_ == nullptr; }
  // Why reading stopped early ("truncated varint", ...); nullptr when it did not.
  const char* error() const { return error_; }
  std::size_t offset() const { return position_; }

 private:
  bool fail(const char* why);

  std::string_view data_;
  std::size_t position_ = 0;
  const char* error_ = nullptr;
};

// Reads one varint at data[position], advancing position; false (position unchanged) when
// it is truncated or longer than 64 bits.
bool read_varint(std::string_view data, std::size_t& position, std::uint64_t& value);

std::size_t varint_size(std::uint64_t value);
void put_varint(std::string& out, std::uint64_t value);
void put_tag(std::string& out, std::uint32_t number, WireType type);
void put_varint_field(std::string& out, std::uint32_t number, std::uint64_t value);
// int32 and int64 fields: a negative value is its 64-bit two's complement, 10 bytes.
void put_int64_field(std::string& out, std::uint32_t number, std::int64_t value);
void put_fixed64_field(std::string& out, std::uint32_t number, std::uint64_t value);
void put_fixed32_field(std::string& out, std::uint32_t number, std::uint32_t value);
void put_double_field(std::string& out, std::uint32_t number, double value);
// Strings, bytes and embedded messages alike.
void put_bytes_field(std::string& out, std::uint32_t number, std::string_view bytes);

}  // namespace covet::otlp::wire
