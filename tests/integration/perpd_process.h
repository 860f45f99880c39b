// Runs perpd as a real process for integration tests: a fresh home in a temporary folder, a free
// 127.0.0.1 port, readiness by polling chain_status, and stop by SIGTERM or SIGKILL.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "node/key_file.h"
#include "node/rpc_client.h"

extern char** environ;

namespace perpd_test {

inline std::uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

inline int run(const std::vector<std::string>& args, const std::string& log = "") {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!log.empty()) {
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  pid_t pid = 0;
  if (posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ) != 0)
    throw std::runtime_error("cannot start " + args[0]);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

class PerpdProcess {
 public:
  // Initializes a home with a known validator key (the local one-validator genesis funds it).
  PerpdProcess() {
    std::mt19937_64 rng(std::random_device{}());
    home_ = std::filesystem::temp_directory_path() / ("perpd-test-" + std::to_string(rng()));
    std::filesystem::create_directories(home_);
    key_ = node::generate_secret_key();
    const std::string key_path = (home_ / "key.in").string();
    (void)node::write_key_file(key_path, key_);
    const int pid =
        run({PERPD_BINARY, "init", "--home", (home_ / "node").string(), "--key", key_path},
            (home_ / "init.log").string());
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw std::runtime_error("perpd init failed");
    port_ = free_port();
  }
  ~PerpdProcess() {
    stop(SIGKILL);
    std::error_code ec;
    std::filesystem::remove_all(home_, ec);
  }

  void start() {
    pid_ = run({PERPD_BINARY, "start", "--home", (home_ / "node").string(), "--rpc",
                "127.0.0.1:" + std::to_string(port_)},
               (home_ / "node.log").string());
    auto client = node::RpcClient::create(url(), std::chrono::milliseconds(500));
    for (int i = 0; i < 200; ++i) {
      if (std::holds_alternative<boost::json::value>(
              client->call("chain_status", boost::json::object{})))
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    throw std::runtime_error("perpd did not answer chain_status within 10 s");
  }
  // Runs `perpd start` to completion (for starts that must fail); returns its exit status and log.
  std::pair<int, std::string> start_expecting_exit() {
    const std::string log = (home_ / "failed-start.log").string();
    const int pid = run({PERPD_BINARY, "start", "--home", (home_ / "node").string(), "--rpc",
                         "127.0.0.1:" + std::to_string(port_)},
                        log);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text};
  }
  // Sends signal and waits for the process; true when it exited with status 0.
  bool stop(int signal = SIGTERM) {
    if (pid_ <= 0) return true;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  bool running() const {
    if (pid_ <= 0) return false;
    int status = 0;
    return ::waitpid(pid_, &status, WNOHANG) == 0;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::uint16_t port() const { return port_; }
  const state::SecretKey& validator_key() const { return key_; }
  std::filesystem::path home() const { return home_ / "node"; }

 private:
  std::filesystem::path home_;
  state::SecretKey key_;
  std::uint16_t port_ = 0;
  int pid_ = 0;
};

}  // namespace perpd_test
