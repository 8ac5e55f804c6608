// Where the S3 file system finds its credentials, region and endpoint: the AWS SDKs'
// environment variables first, then the profile of the shared credentials and config files.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <map>
#include <optional>
#include <string>

#include "lakelog/s3_file_system.h"

namespace lakelog {
namespace {

// Sets (or unsets, with nullopt) variables for the test's life and puts them back after.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::map<std::string, std::optional<std::string>>& vars) {
    for (const auto& [name, value] : vars) {
      const char* old = std::getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST(S3OptionsTest, TheProfileOfTheSharedFilesWhenTheEnvironmentHasNoKeys) {
  const std::string dir = ::testing::TempDir();
  std::ofstream(dir + "/credentials") << "[default]\naws_access_key_id = DEF\n"
                                         "aws_secret_access_key = defsecret\n\n"
                                         "[prod]\naws_access_key_id = PROD\n"
                                         "aws_secret_access_key = prodsecret\n"
                                         "aws_session_token = tok\n";
  std::ofstream(dir + "/config") << "[default]\nregion = us-west-2\n\n[profile prod]\n"
                                    "region = eu-central-1\nendpoint_url = http://10.1.2.3:9000\n";
  ScopedEnv env({{"AWS_ACCESS_KEY_ID", std::nullopt},
                 {"AWS_SECRET_ACCESS_KEY", std::nullopt},
                 {"AWS_SESSION_TOKEN", std::nullopt},
                 {"AWS_REGION", std::nullopt},
                 {"AWS_DEFAULT_REGION", std::nullopt},
                 {"AWS_ENDPOINT_URL", std::nullopt},
                 {"AWS_ENDPOINT_URL_S3", std::nullopt},
                 {"AWS_PROFILE", "prod"},
                 {"AWS_SHARED_CREDENTIALS_FILE", dir + "/credentials"},
                 {"AWS_CONFIG_FILE", dir + "/config"}});
  auto options = S3OptionsFromEnvironment("logs");
  ASSERT_TRUE(options.ok()) << options.status().ToString();
  EXPECT_EQ(options->bucket, "logs");
  EXPECT_EQ(options->access_key_id, "PROD");
  EXPECT_EQ(options->secret_access_key, "prodsecret");
  EXPECT_EQ(options->session_token, "tok");
  EXPECT_EQ(options->region, "eu-central-1");
  EXPECT_EQ(options->endpoint, "http://10.1.2.3:9000");
  EXPECT_TRUE(options->path_style);  // a custom endpoint
  {
    // The environment wins over the files.
    ScopedEnv over({{"AWS_ACCESS_KEY_ID", "ENV"},
                    {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                    {"AWS_REGION", "ap-south-1"},
                    {"AWS_PROFILE", "default"}});
    auto env_options = S3OptionsFromEnvironment("logs");
    ASSERT_TRUE(env_options.ok());
    EXPECT_EQ(env_options->access_key_id, "ENV");
    EXPECT_EQ(env_options->session_token, "");
    EXPECT_EQ(env_options->region, "ap-south-1");
    EXPECT_EQ(env_options->endpoint, "");  // AWS itself, virtual-hosted
    EXPECT_FALSE(env_options->path_style);
  }
  ScopedEnv none({{"AWS_PROFILE", std::optional<std::string>("nobody")}});
  auto missing = S3OptionsFromEnvironment("logs");
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find(dir + "/credentials"), std::string::npos)
      << missing.status().ToString();
}

TEST(S3OptionsTest, TableUrisAndBadOptions) {
  std::string bucket, prefix;
  ASSERT_TRUE(ParseS3Uri("s3://logs/tables/pipeline_logs/", &bucket, &prefix).ok());
  EXPECT_EQ(bucket, "logs");
  EXPECT_EQ(prefix, "tables/pipeline_logs");
  ASSERT_TRUE(ParseS3Uri("s3a://logs", &bucket, &prefix).ok());
  EXPECT_EQ(prefix, "");
  EXPECT_FALSE(ParseS3Uri("s3:///nobucket", &bucket, &prefix).ok());
  EXPECT_FALSE(ParseS3Uri("/local/path", &bucket, &prefix).ok());
  S3Options o;
  o.bucket = "b";
  EXPECT_NE(NewS3FileSystem(o).status().message().find("access_key_id"), std::string::npos);
  o.access_key_id = "k";
  o.secret_access_key = "s";
  o.part_size = 1 << 20;
  EXPECT_NE(NewS3FileSystem(o).status().message().find("5 MiB"), std::string::npos);
}

}  // namespace
}  // namespace lakelog
