#include "cli/docs/command_docs.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

namespace cbcs::cli::docs {
namespace {

struct option_doc {
  std::string name;   // without the dash
  std::string value;  // "" for a switch
  std::string description;
};

std::vector<option_doc> options_of(const command& c) {
  std::vector<option_doc> out;
  auto desc = c.options({});
  for (const auto& opt : desc.options()) {
    option_doc d{.name = opt->long_name(), .description = opt->description()};
    if (opt->semantic()->max_tokens() > 0) d.value = opt->semantic()->name();
    out.push_back(std::move(d));
  }
  return out;
}

// Only the characters a shell word list may carry unquoted.
bool shell_word(const std::string& w) {
  if (w.empty()) return false;
  for (unsigned char c : w)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

}  // namespace

std::string roff_escape(std::string_view text) {
  std::string out;
  bool line_start = true;
  for (char c : text) {
    if (line_start && (c == '.' || c == '\'')) out += "\\&";
    line_start = c == '\n';
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  return out;
}

std::string man_page(const std::vector<command>& commands, std::string_view version,
                     std::string_view date) {
  auto e = [](std::string_view s) { return roff_escape(s); };
  std::string out;
  out += fmt::format(".TH CBCS 1 \"{}\" \"cbcs {}\" \"User Commands\"\n", e(date), e(version));
  out +=
      ".SH NAME\ncbcs \\- CA Backend Connector Service\n"
      ".SH SYNOPSIS\n.B cbcs\n.I COMMAND\n[\\fIoptions\\fR]\n"
      ".SH DESCRIPTION\n"
      "cbcs keeps one outbound, mutually authenticated session to the central certificate "
      "manager (SCM) and carries out the certificate operations SCM asks for against the "
      "certificate authorities configured on the connector.\n"
      ".PP\n"
      "Options are written \\fB\\-name value\\fR, \\fB\\-\\-name value\\fR or "
      "\\fB\\-\\-name=value\\fR; abbreviations are refused. Every command takes \\fB\\-h\\fR.\n"
      ".SH COMMANDS\n";
  for (const auto& c : commands) {
    out += fmt::format(".SS \"cbcs {}{}{}\"\n", e(c.path), c.synopsis.empty() ? "" : " ",
                       e(c.synopsis));
    out += e(c.summary) + ".\n";
    for (const auto& o : options_of(c)) {
      out += fmt::format(".TP\n.B \\-{}{}\n{}\n", e(o.name),
                         o.value.empty() ? "" : fmt::format(" \\fI{}\\fR", e(o.value)),
                         e(o.description));
    }
    if (c.extra_help) {
      out += ".PP\n.nf\n" + e(c.extra_help({})) + "\n.fi\n";
    }
    out += fmt::format(".PP\nExample:\n.RS\n.B {}\n.RE\n", e(c.example));
  }
  out +=
      ".SH EXIT STATUS\n"
      "0 success; 1 the operation failed; 2 the command line is wrong. "
      "Every error is one line on standard error.\n"
      ".SH ENVIRONMENT\n"
      ".TP\n.B CBCS_DATA_DIR\nthe data directory when \\fB\\-data\\-dir\\fR is not given.\n"
      ".TP\n.B NOTIFY_SOCKET\\fR, \\fBWATCHDOG_USEC\nset by systemd: \\fBcbcs run\\fR reports "
      "ready, status, watchdog and stopping there.\n"
      ".TP\n.B JOURNAL_STREAM\nset by systemd: \\fBcbcs run\\fR logs to journald with priorities "
      "instead of files.\n"
      ".SH FILES\n"
      ".TP\n.I /var/lib/cbcs\nthe data directory (config, vault, identity, journal, trace, logs), "
      "mode 0700.\n"
      ".TP\n.I /etc/cbcs/install.env\nread once by the Debian package: TOKEN= and PROXY_TYPE, "
      "PROXY_ADDR, PROXY_PORT, PROXY_USER, PROXY_PASSWORD; deleted after registering.\n"
      ".TP\n.I /lib/systemd/system/cbcs.service\nthe systemd unit.\n"
      ".SH SEE ALSO\n.BR systemctl (1),\n.BR journalctl (1)\n";
  return out;
}

std::string bash_completion(const std::vector<command>& commands) {
  // The words that may follow each prefix of a command path, and each full
  // path's options.
  std::map<std::string, std::set<std::string>> next;
  std::map<std::string, std::vector<std::string>> options;
  for (const auto& c : commands) {
    std::vector<std::string> words;
    std::string_view rest = c.path;
    while (!rest.empty()) {
      auto sp = rest.find(' ');
      words.emplace_back(rest.substr(0, sp));
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp + 1);
    }
    if (words.empty() || !std::all_of(words.begin(), words.end(), shell_word)) continue;
    std::string prefix;
    for (const auto& word : words) {
      next[prefix].insert(word);
      prefix += (prefix.empty() ? "" : " ") + word;
    }
    auto& mine = options[prefix];
    for (const auto& o : options_of(c))
      if (shell_word(o.name)) mine.push_back("-" + o.name);
  }
  std::string out =
      "# bash completion for cbcs; generated from its command declarations by cbcs-docgen.\n"
      "_cbcs() {\n"
      "  local cur=${COMP_WORDS[COMP_CWORD]} path= i w\n"
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
      "    w=${COMP_WORDS[i]}\n"
      "    [[ $w == -* ]] && break\n"
      "    path+=${path:+ }$w\n"
      "  done\n"
      "  local words=\n"
      "  case $path in\n";
  std::set<std::string> paths;
  for (const auto& [p, _] : next) paths.insert(p);
  for (const auto& [p, _] : options) paths.insert(p);
  for (const auto& p : paths) {
    std::vector<std::string> words;
    if (auto it = next.find(p); it != next.end())
      for (const auto& w : it->second) words.push_back(w);
    if (auto it = options.find(p); it != options.end())
      for (const auto& o : it->second) words.push_back(o);
    out += fmt::format("    \"{}\") words=\"{}\" ;;\n", p, fmt::join(words, " "));
  }
  out +=
      "  esac\n"
      "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
      "}\n"
      "complete -o default -F _cbcs cbcs\n";
  return out;
}

}  // namespace cbcs::cli::docs
