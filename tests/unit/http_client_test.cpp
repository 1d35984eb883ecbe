#include <doctest/doctest.h>

#include "actors/http/http_client.hpp"

using cbcs::actors::bypasses_proxy;

TEST_SUITE("http_client") {
  TEST_CASE("link-local hosts and the metadata service never go through the proxy") {
    CHECK(bypasses_proxy("169.254.169.254"));
    CHECK(bypasses_proxy("169.254.0.1"));
    CHECK(bypasses_proxy("fd00:ec2::254"));
    CHECK(bypasses_proxy("[fd00:ec2::254]"));
    CHECK(bypasses_proxy("fe80::1"));
    CHECK(bypasses_proxy("::ffff:169.254.169.254"));
    // Everything else is the proxy's: names are resolved there, not here.
    CHECK_FALSE(bypasses_proxy("169.255.0.1"));
    CHECK_FALSE(bypasses_proxy("127.0.0.1"));
    CHECK_FALSE(bypasses_proxy("10.0.0.1"));
    CHECK_FALSE(bypasses_proxy("fd00:ec2::253"));
    CHECK_FALSE(bypasses_proxy("169.254.169.254.example.com"));
    CHECK_FALSE(bypasses_proxy("acm-pca.eu-west-1.amazonaws.com"));
    CHECK_FALSE(bypasses_proxy(""));
  }
}
