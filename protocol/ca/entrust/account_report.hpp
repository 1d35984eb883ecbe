#pragma once
// `backend test` and inventory at ECS: the clients with their verification
// status and the one the backend orders for, each client's domains and which
// of them an order may name, then the inventories (what the account may still
// order). GET /clients, GET /clients/{id}/domains, GET /inventories; a JSON
// report, and the domains in a line for people (the outcome's message). A
// failed report (no usable client) carries the report too.

#include <memory>

#include "protocol/ca/entrust/entrust_backend.hpp"

namespace cbcs::protocol::ca::entrust {

std::unique_ptr<job_session> start_account_report(std::shared_ptr<backend_state> backend);

}  // namespace cbcs::protocol::ca::entrust
