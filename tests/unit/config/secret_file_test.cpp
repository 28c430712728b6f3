#include "config/secret_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace covet::config {
namespace {

// A private temporary directory, removed with everything in it.
class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/covet-secret-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    for (const std::string& file : files_) ::unlink(file.c_str());
    ::rmdir(dir_.c_str());
  }
  std::string write(const std::string& name, const std::string& contents) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << contents;
    files_.push_back(path);
    return path;
  }

  std::string dir_;
  std::vector<std::string> files_;
};

TEST_F(SecretFileTest, ReadsContentsWithoutOneTrailingNewline) {
  EXPECT_EQ(read_secret_file(write("plain", "hunter2")).value, "hunter2");
  EXPECT_EQ(read_secret_file(write("lf", "hunter2\n")).value, "hunter2");
  EXPECT_EQ(read_secret_file(write("crlf", "hunter2\r\n")).value, "hunter2");
  EXPECT_EQ(read_secret_file(write("two", "hunter2\n\n")).value, "hunter2\n");
  EXPECT_EQ(read_secret_file(write("inner", "a\nb\n")).value, "a\nb");
  EXPECT_EQ(read_secret_file(write("empty", "")).value, "");
  EXPECT_EQ(read_secret_file(write("spaces", " pw \n")).value, " pw ");
}

TEST_F(SecretFileTest, MissingFileNamesOperationPathAndReason) {
  const std::string path = dir_ + "/absent";
  const SecretRead result = read_secret_file(path);
  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "read secret file " + path + ": No such file or directory");
  EXPECT_EQ(read_secret_file(path, "password_file").error,
            "read password_file " + path + ": No such file or directory");
}

TEST_F(SecretFileTest, DirectoryIsRefused) {
  EXPECT_EQ(read_secret_file(dir_).error, "read secret file " + dir_ + ": Is a directory");
}

TEST_F(SecretFileTest, FifoIsRefusedWithoutBlocking) {
  const std::string path = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  files_.push_back(path);
  EXPECT_EQ(read_secret_file(path).error, "read secret file " + path + ": not a regular file");
}

TEST_F(SecretFileTest, UpTo64KiBIsReadLargerIsRefusedWithoutContents) {
  const std::string limit(64 * 1024, 's');
  EXPECT_EQ(read_secret_file(write("limit", limit)).value, limit);
  const SecretRead result = read_secret_file(write("big", limit + "X"));
  EXPECT_FALSE(result.value.has_value());
  EXPECT_EQ(result.error, "read secret file " + dir_ + "/big: larger than 64 KiB");
}

TEST_F(SecretFileTest, ErrorsNeverContainTheContents) {
  std::string contents;
  while (contents.size() <= 64 * 1024) contents += "hunter2 ";
  const std::string error = read_secret_file(write("big", contents)).error;
  EXPECT_FALSE(error.empty());
  EXPECT_EQ(error.find("hunter2"), std::string::npos) << error;
}

}  // namespace
}  // namespace covet::config
