#pragma once
// The typed messages and actor interfaces of the job path. Only actor .cpp
// files include this (it pulls in CAF); everything else talks to the
// runtime through connector_runtime.hpp.

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "protocol/ca/driver.hpp"

namespace cbcs::actors {

// Atom texts are at most 10 characters in CAF 0.17.
using submit_atom = caf::atom_constant<caf::atom("submit")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using result_atom = caf::atom_constant<caf::atom("result")>;
using progress_atom = caf::atom_constant<caf::atom("progress")>;
using ack_atom = caf::atom_constant<caf::atom("ack")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using retry_atom = caf::atom_constant<caf::atom("retry")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using http_done_atom = caf::atom_constant<caf::atom("httpdone")>;
using backend_up_atom = caf::atom_constant<caf::atom("backendup")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using replay_atom = caf::atom_constant<caf::atom("replay")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using accepted_atom = caf::atom_constant<caf::atom("accepted")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using unpark_atom = caf::atom_constant<caf::atom("unpark")>;
using resume_atom = caf::atom_constant<caf::atom("resume")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using probe_atom = caf::atom_constant<caf::atom("probe")>;
using reconfig_atom = caf::atom_constant<caf::atom("reconfig")>;
using durable_atom = caf::atom_constant<caf::atom("durable")>;
using cert_check_atom = caf::atom_constant<caf::atom("certcheck")>;

// A health probe (the service watchdog's): the actor that handles it sets the
// promise; whoever sent it waits on the future with a timeout.
using probe_reply = std::shared_ptr<std::promise<void>>;

// Sends a probe with send(reply) and waits for its answer: true when it
// came within timeout. A dead actor drops the message, which breaks the promise.
template <class Send>
bool probe_answered(std::chrono::milliseconds timeout, Send&& send) {
  auto reply = std::make_shared<std::promise<void>>();
  auto answered = reply->get_future();
  send(std::move(reply));
  if (answered.wait_for(timeout) != std::future_status::ready) return false;
  try {
    answered.get();
    return true;
  } catch (const std::future_error&) {
    return false;
  }
}

using steady = std::chrono::steady_clock;

// A job on its way to a backend.
struct job_ticket {
  protocol::ca::job job;
  steady::time_point deadline;
  std::string resume_token;  // what an earlier run of this job left in the journal
  // The submitter consumes the result itself (the CLI is its own SCM): the
  // commit that records the result acknowledges it too, with no ack to wait for.
  bool ack_with_result = false;
  // The submitter's number for this request, carried back in its result: two
  // requests with one id (a conflict) are told apart. 0: the submitter tells
  // results apart by id alone (the SCM session).
  std::uint64_t submission = 0;
};

// The configuration changed while the connector runs (cbcs backend add or
// remove beside `cbcs run`): what the router must know of it.
struct backend_names_change {
  std::vector<std::string> added;
  // Gone: their jobs still running fail with a reason, new ones are refused.
  std::vector<std::string> removed;
  // Changed: their actors are replaced; their running jobs go to the new
  // ones from the journal (no crash counted).
  std::vector<std::string> replaced;
};

// A job's final outcome (pending is reported as progress, not as a result).
struct job_result {
  std::string job_id;
  std::string backend;
  protocol::ca::outcome outcome;
  std::uint64_t submission = 0;  // job_ticket::submission of the request answered
};

// Whoever submitted a job and wants its result: the SCM session, the CLI.
// accepted: the job is in the journal (durable), so SCM may hear job_ack.
// progress: the job waits at its CA (pending), e.g. for an approval.
using result_sink =
    caf::typed_actor<caf::reacts_to<result_atom, job_result>,
                     caf::reacts_to<accepted_atom, std::string>,
                     caf::reacts_to<progress_atom, std::string, protocol::ca::outcome>>;

// One actor per configured backend.
using backend_actor = caf::typed_actor<
    caf::reacts_to<run_atom, job_ticket>,
    caf::reacts_to<retry_atom, std::string, std::uint64_t>,     // job id, generation
    caf::reacts_to<deadline_atom, std::uint64_t>,               // timer generation
    caf::reacts_to<http_done_atom, std::string, std::uint64_t,  // job id, generation,
                   protocol::ca::http_response, std::uint8_t,   // response, transport_failure,
                   std::string>,                                // its message
    caf::reacts_to<unpark_atom, bool>,  // step jobs parked behind the half-open breaker
                                        // (true: from the fallback timer)
    caf::reacts_to<flush_atom>,         // make held outcomes durable, then send them
    caf::reacts_to<wake_atom, bool>,    // step the jobs awaiting a credential (true: the timer)
    caf::reacts_to<cancel_atom, std::string, std::string>,  // SCM cancels: job id, reason
    // The router committed the job's resume token number `seq` (a placement
    // in doubt waits for it): job id, seq
    caf::reacts_to<durable_atom, std::string, std::uint64_t>,
    caf::reacts_to<cert_check_atom>>;  // look at the client certificate's expiry again

// Journals jobs and fans them out to backend actors.
using router_actor = caf::typed_actor<
    caf::reacts_to<submit_atom, job_ticket, result_sink>, caf::reacts_to<result_atom, job_result>,
    caf::reacts_to<progress_atom, std::string, protocol::ca::outcome>,  // id, still pending
    // id, resume token to journal, and when seq > 0, who hears `durable` (id,
    // seq) once the commit that holds it is done (a placement waits for it)
    caf::reacts_to<resume_atom, std::string, std::string, std::uint64_t, backend_actor>,
    // SCM cancels a job pending at its CA: id, reason, who hears its result
    // and under which submission number
    caf::reacts_to<cancel_atom, std::string, std::string, result_sink, std::uint64_t>,
    caf::reacts_to<ack_atom, std::string>, caf::reacts_to<flush_atom>,
    // name, worker index, workers of that backend, the worker's actor
    caf::reacts_to<backend_up_atom, std::string, std::uint32_t, std::uint32_t, backend_actor>,
    caf::reacts_to<replay_atom>, caf::reacts_to<probe_atom, probe_reply>,
    caf::reacts_to<reconfig_atom, backend_names_change>>;

}  // namespace cbcs::actors

// These travel only inside the process (no caf_io), so they need no inspect().
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cbcs::actors::job_ticket)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cbcs::actors::job_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cbcs::actors::backend_names_change)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cbcs::protocol::ca::http_response)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cbcs::protocol::ca::outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cbcs::actors::probe_reply)
