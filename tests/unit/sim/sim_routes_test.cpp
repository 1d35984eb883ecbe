// The simulators' route table: path patterns with {params}, methods, queries.

#include <doctest/doctest.h>

#include "tests/sim/common/sim_routes.hpp"

using namespace cbcs::sim;

namespace {

sim_request make(std::string method, std::string target) {
  sim_request r;
  r.method = std::move(method);
  r.target = target;
  auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  return r;
}

sim_handler answer(int status) {
  return [status](sim_request&) { return sim_response::json(status, "{}"); };
}

}  // namespace

TEST_SUITE("sim_routes") {
  TEST_CASE("params stop at '/' and at the pattern's next literal character") {
    route_table t;
    t.add("POST", "/v1/projects/{p}/caPools/{pool}/certificates/{id}:revoke", answer(201));
    t.add("GET", "/v1/projects/{p}/caPools/{pool}/certificates/{id}", answer(200));
    auto r = make("POST", "/v1/projects/pr/caPools/a-b/certificates/c_1:revoke");
    auto got = t.dispatch(r);
    REQUIRE(got);
    CHECK(got->status == 201);
    CHECK(r.param("p") == "pr");
    CHECK(r.param("pool") == "a-b");
    CHECK(r.param("id") == "c_1");

    auto g = make("GET", "/v1/projects/pr/caPools/a/certificates/c1");
    REQUIRE(t.dispatch(g));
    CHECK(g.param("id") == "c1");
    // A param never spans a '/', and an empty one does not match.
    auto deeper = make("GET", "/v1/projects/pr/caPools/a/certificates/c1/x");
    CHECK_FALSE(t.dispatch(deeper));
    auto empty = make("GET", "/v1/projects//caPools/a/certificates/c1");
    CHECK_FALSE(t.dispatch(empty));
  }

  TEST_CASE("a path known for another method is 405, an unknown one is no match") {
    route_table t;
    t.add("GET", "/order/{id}", answer(200));
    auto put = make("PUT", "/order/7");
    auto got = t.dispatch(put);
    REQUIRE(got);
    CHECK(got->status == 405);
    auto other = make("GET", "/orders");
    CHECK_FALSE(t.dispatch(other));
    auto lower = make("get", "/order/7");  // methods compare case-insensitively
    CHECK(t.dispatch(lower)->status == 200);
  }

  TEST_CASE("the query is not matched; its parameters are decoded") {
    route_table t;
    t.add("POST", "/c", answer(200));
    auto r = make("POST", "/c?certificateId=a%2Db&requestId=&x=1+2&bad=%zz");
    CHECK(t.dispatch(r)->status == 200);
    CHECK(r.query_param("certificateId") == "a-b");
    CHECK(r.query_param("requestId") == "");
    CHECK(r.query_param("x") == "1 2");
    CHECK(r.query_param("bad") == "%zz");
    CHECK_FALSE(r.query_param("missing"));
  }

  TEST_CASE("headers are found whatever their case") {
    sim_request r;
    r.headers = {{"Authorization", "Bearer x"}};
    CHECK(r.header("authorization") == "Bearer x");
    CHECK(r.header("X-None").empty());
  }
}
