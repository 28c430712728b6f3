#include "exporters/otlp/wire.h"

#include <bit>

namespace covet::otlp::wire {
namespace {

constexpr std::uint64_t kMaxFieldNumber = (std::uint64_t{1} << 29) - 1;

std::uint64_t read_little_endian(std::string_view bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = bytes.size(); i > 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i - 1]);
  }
  return value;
}

void put_little_endian(std::string& out, std::uint64_t value, std::size_t size) {
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(static_cast<char>(value & 0xFF));
    value >>= 8;
  }
}

}  // namespace

bool read_varint(std::string_view data, std::size_t& position, std::uint64_t& value) {
  std::uint64_t result = 0;
  std::size_t at = position;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (at >= data.size()) return false;
    const auto byte = static_cast<unsigned char>(data[at++]);
    // The tenth byte carries bit 63 only: anything more does not fit in 64 bits.
    if (shift == 63 && byte > 1) return false;
    result |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      position = at;
      value = result;
      return true;
    }
  }
  return false;
}

namespace detail {

// Length-delimited fields with a valid tag never come here: Reader::next() reads them inline.
OtherField read_other_field(std::string_view data, std::size_t position, std::uint64_t tag,
                            Field& field) {
  // The largest tag is the largest field number with wire type 7: 2^32-1.
  if (tag > ((kMaxFieldNumber << 3) | 7)) return {0, "tag past 32 bits"};
  const std::uint64_t number = tag >> 3;
  if (number == 0 || number > kMaxFieldNumber) return {0, "invalid field number"};
  field.number = static_cast<std::uint32_t>(number);
  field.value = 0;
  field.bytes = {};
  switch (tag & 7) {
    case 0:
      field.type = WireType::varint;
      if (!wire::read_varint(data, position, field.value)) {
        return {0, "truncated or overlong varint"};
      }
      return {position, nullptr};
    case 1:
      field.type = WireType::fixed64;
      if (data.size() - position < 8) return {0, "truncated fixed64"};
      field.value = read_little_endian(data.substr(position, 8));
      return {position + 8, nullptr};
    case 5:
      field.type = WireType::fixed32;
      if (data.size() - position < 4) return {0, "truncated fixed32"};
      field.value = read_little_endian(data.substr(position, 4));
      return {position + 4, nullptr};
    case 2:
      // Only a tag out of range gets here as length-delimited, and that was refused above.
      return {0, "invalid field number"};
    case 3:
    case 4:
      return {0, "groups (wire types 3 and 4) are not used by OTLP"};
    default:
      return {0, "invalid wire type"};
  }
}

}  // namespace detail

std::size_t varint_size(std::uint64_t value) {
  // 7 bits a byte; 0 still takes one byte.
  return value == 0 ? 1 : (static_cast<std::size_t>(std::bit_width(value)) + 6) / 7;
}

void put_varint(std::string& out, std::uint64_t value) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void put_tag(std::string& out, std::uint32_t number, WireType type) {
  put_varint(out, (static_cast<std::uint64_t>(number) << 3) | static_cast<std::uint8_t>(type));
}

void put_varint_field(std::string& out, std::uint32_t number, std::uint64_t value) {
  put_tag(out, number, WireType::varint);
  put_varint(out, value);
}

void put_int64_field(std::string& out, std::uint32_t number, std::int64_t value) {
  put_varint_field(out, number, static_cast<std::uint64_t>(value));
}

void put_fixed64_field(std::string& out, std::uint32_t number, std::uint64_t value) {
  put_tag(out, number, WireType::fixed64);
  put_little_endian(out, value, 8);
}

void put_fixed32_field(std::string& out, std::uint32_t number, std::uint32_t value) {
  put_tag(out, number, WireType::fixed32);
  put_little_endian(out, value, 4);
}

void put_double_field(std::string& out, std::uint32_t number, double value) {
  put_fixed64_field(out, number, std::bit_cast<std::uint64_t>(value));
}

void put_bytes_field(std::string& out, std::uint32_t number, std::string_view bytes) {
  put_tag(out, number, WireType::length_delimited);
  put_varint(out, bytes.size());
  out.append(bytes);
}

}  // namespace covet::otlp::wire
