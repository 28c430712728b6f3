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

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
  inline bool next(Field& field);
  bool ok() const { return error_ == nullptr; }
  // Why reading stopped early ("truncated varint", ...); nullptr when it did not.
  const char* error() const { return error_; }
  std::size_t offset() const { return position_; }

 private:
  // The largest tag: field number 2^29-1 with any wire type.
  static constexpr std::uint64_t kMaxTag = 0xFFFFFFFFu;
  bool fail(const char* why) {
    error_ = why;
    return false;
  }

  std::string_view data_;
  std::size_t position_ = 0;
  const char* error_ = nullptr;
};

// Reads one varint at data[position], advancing position; false (position unchanged) when
// it is truncated or longer than 64 bits.
bool read_varint(std::string_view data, std::size_t& position, std::uint64_t& value);

namespace detail {
// The common case inline, the rest out of line: in OTLP nearly every tag, length and enum is
// one byte, and a call per field was a third of the time it took to check a request.
inline bool read_varint(std::string_view data, std::size_t& position, std::uint64_t& value) {
  if (position < data.size()) {
    const auto byte = static_cast<unsigned char>(data[position]);
    if (byte < 0x80) {
      value = byte;
      ++position;
      return true;
    }
  }
  // A copy goes out of line, not `position` itself: the reader's state then never has its
  // address taken and stays in registers in the loops that walk a message.
  std::size_t at = position;
  const bool read = wire::read_varint(data, at, value);
  position = at;
  return read;
}

// Where reading a field other than a length-delimited one ends, or why it cannot be read.
struct OtherField {
  std::size_t end = 0;
  const char* error = nullptr;
};
// Varint and fixed-width fields, and every invalid tag, from `position` (just after the
// tag) on; fills field's number, type, value and bytes.
OtherField read_other_field(std::string_view data, std::size_t position, std::uint64_t tag,
                            Field& field);
}  // namespace detail

[[gnu::always_inline]] inline bool Reader::next(Field& field) {
  if (error_ != nullptr || position_ >= data_.size()) return false;
  const std::size_t start = position_;
  std::uint64_t tag = 0;
  if (!detail::read_varint(data_, position_, tag)) {
    return fail("truncated or overlong varint in a tag");
  }
  if ((tag & 7) != 2 || tag < 8 || tag > kMaxTag) {
    // Timestamps and one-byte varints (kinds, codes, counts) are most of the rest; the
    // other cases (longer varints, fixed32, invalid tags) are decided out of line.
    const bool valid_number = tag >= 8 && tag <= kMaxTag;
    if (valid_number && (tag & 7) == 1 && data_.size() - position_ >= 8) {
      field.number = static_cast<std::uint32_t>(tag >> 3);
      field.type = WireType::fixed64;
      std::memcpy(&field.value, data_.data() + position_, 8);
      if constexpr (std::endian::native == std::endian::big) {
        field.value = __builtin_bswap64(field.value);
      }
      field.bytes = {};
      position_ += 8;
      field.raw = data_.substr(start, position_ - start);
      return true;
    }
    if (valid_number && (tag & 7) == 0 && position_ < data_.size() &&
        static_cast<unsigned char>(data_[position_]) < 0x80) {
      field.number = static_cast<std::uint32_t>(tag >> 3);
      field.type = WireType::varint;
      field.value = static_cast<unsigned char>(data_[position_]);
      field.bytes = {};
      ++position_;
      field.raw = data_.substr(start, position_ - start);
      return true;
    }
    const detail::OtherField other = detail::read_other_field(data_, position_, tag, field);
    if (other.error != nullptr) return fail(other.error);
    position_ = other.end;
    field.raw = data_.substr(start, position_ - start);
    return true;
  }
  field.number = static_cast<std::uint32_t>(tag >> 3);
  field.type = WireType::length_delimited;
  field.value = 0;
  std::uint64_t length = 0;
  if (!detail::read_varint(data_, position_, length)) {
    return fail("truncated or overlong length");
  }
  if (length > data_.size() - position_) return fail("length past the end of the message");
  field.bytes = data_.substr(position_, static_cast<std::size_t>(length));
  position_ += static_cast<std::size_t>(length);
  field.raw = data_.substr(start, position_ - start);
  return true;
}

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
