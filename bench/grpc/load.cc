// secstat-bench-grpc-load: the gRPC load generator, the counterpart of
// secstat-bench-load. One channel (one HTTP/2 connection), K slots each
// keeping one unary call in flight with the callback API; the same
// warm-up, window, histogram and /proc accounting, the same output line.
//
// secstat-bench-grpc-load --target HOST:PORT [--inflight K]
//     [--duration S] [--warmup S] [--requests N] [--server-pid PID]
//     [--tls-ca FILE] [--tls-server-name NAME] [--method NAME]

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "secstat_bench.grpc.pb.h"

extern "C" {
#include "hist.h"
#include "procstat.h"
}

namespace
{

struct Load;

struct Slot {
	Load *load = nullptr;
	std::unique_ptr<grpc::ClientContext> ctx;
	secstat::v1::Request req;
	secstat::v1::Reply resp;
	uint64_t t_start = 0;
	uint64_t ok = 0;
	uint64_t errors = 0;
	uint64_t bytes = 0;
	struct hist h;
};

struct Load {
	std::unique_ptr<secstat::bench::SecstatBench::Stub> stub;
	std::string method;
	std::atomic<bool> running{true};
	std::atomic<bool> measuring{false};
	std::atomic<uint64_t> next_id{1};
	std::atomic<uint64_t> done{0};
	uint64_t limit = 0;
	unsigned timeout_ms = 5000;
	std::mutex mtx;
	std::condition_variable cv;
	unsigned n_idle = 0;
	bool limit_hit = false;
	std::vector<Slot> slots;
};

void slot_send(Slot *s);

void
slot_idle(Slot *s)
{
	std::lock_guard<std::mutex> g(s->load->mtx);
	s->load->n_idle++;
	s->load->cv.notify_all();
}

void
slot_done(Slot *s, const grpc::Status &st)
{
	Load *l = s->load;

	if (!st.ok()) {
		s->errors++;
		slot_idle(s);
		return;
	}
	if (l->measuring.load()) {
		hist_record(&s->h, procstat_now_ns() - s->t_start);
		s->ok++;
		s->bytes += s->resp.ByteSizeLong();
		if (l->limit != 0 && l->done.fetch_add(1) + 1 >= l->limit) {
			std::lock_guard<std::mutex> g(l->mtx);
			l->limit_hit = true;
			l->running.store(false);
			l->cv.notify_all();
		}
	}
	slot_send(s);
}

void
slot_send(Slot *s)
{
	Load *l = s->load;

	if (!l->running.load()) {
		slot_idle(s);
		return;
	}
	s->ctx = std::make_unique<grpc::ClientContext>();
	s->ctx->set_deadline(std::chrono::system_clock::now() +
	                     std::chrono::milliseconds(l->timeout_ms));
	s->req.Clear();
	s->req.set_request_id(l->next_id.fetch_add(1));
	s->req.set_method(l->method);
	s->req.mutable_statistics();
	s->t_start = procstat_now_ns();
	l->stub->async()->Call(s->ctx.get(), &s->req, &s->resp,
	                       [s](grpc::Status st) { slot_done(s, st); });
}

std::string
read_file(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	std::ostringstream ss;

	ss << in.rdbuf();
	return ss.str();
}

} // namespace

int
main(int argc, char *argv[])
{
	std::string target, ca, server_name = "localhost";
	double duration = 2.0, warmup = 0.3;
	unsigned inflight = 1;
	int server_pid = 0;
	Load l;

	l.method = "IPsecGetStatistics1";
	for (int i = 1; i + 1 < argc; i += 2) {
		std::string opt = argv[i];
		const char *v = argv[i + 1];
		if (opt == "--target") {
			target = v;
		} else if (opt == "--inflight") {
			inflight = (unsigned)strtoul(v, nullptr, 10);
		} else if (opt == "--duration") {
			duration = strtod(v, nullptr);
		} else if (opt == "--warmup") {
			warmup = strtod(v, nullptr);
		} else if (opt == "--requests") {
			l.limit = strtoull(v, nullptr, 10);
		} else if (opt == "--server-pid") {
			server_pid = atoi(v);
		} else if (opt == "--tls-ca") {
			ca = v;
		} else if (opt == "--tls-server-name") {
			server_name = v;
		} else if (opt == "--method") {
			l.method = v;
		} else if (opt == "--timeout-ms") {
			l.timeout_ms = (unsigned)strtoul(v, nullptr, 10);
		} else {
			std::cerr << "unknown option " << opt << "\n";
			return 2;
		}
	}
	if (target.empty() || inflight == 0 || inflight > 1024 ||
	    duration <= 0 || duration > 3600 || warmup < 0 || warmup > 60) {
		std::cerr
		    << "usage: secstat-bench-grpc-load --target HOST:PORT "
		       "[--inflight K] [--duration S] [--warmup S] "
		       "[--requests N] [--server-pid PID] [--tls-ca F]\n";
		return 2;
	}

	std::shared_ptr<grpc::ChannelCredentials> creds;
	grpc::ChannelArguments args;
	if (!ca.empty()) {
		grpc::SslCredentialsOptions opts;
		opts.pem_root_certs = read_file(ca);
		creds = grpc::SslCredentials(opts);
		args.SetSslTargetNameOverride(server_name);
	} else {
		creds = grpc::InsecureChannelCredentials();
	}
	auto channel = grpc::CreateCustomChannel(target, creds, args);
	if (!channel->WaitForConnected(std::chrono::system_clock::now() +
	                               std::chrono::seconds(5))) {
		std::cerr << target << ": cannot connect\n";
		return 1;
	}
	l.stub = secstat::bench::SecstatBench::NewStub(channel);

	l.slots.resize(inflight);
	for (auto &s : l.slots) {
		s.load = &l;
		hist_reset(&s.h);
	}
	for (auto &s : l.slots) {
		slot_send(&s);
	}

	std::this_thread::sleep_for(std::chrono::duration<double>(warmup));
	int64_t scpu0 = procstat_cpu_ns(server_pid);
	int64_t ccpu0 = procstat_self_cpu_ns();
	uint64_t t0 = procstat_now_ns();
	l.measuring.store(true);
	{
		std::unique_lock<std::mutex> g(l.mtx);
		l.cv.wait_for(g, std::chrono::duration<double>(duration), [&] {
			return l.limit_hit || l.n_idle == l.slots.size();
		});
	}
	l.measuring.store(false);
	uint64_t t1 = procstat_now_ns();
	int64_t scpu1 = procstat_cpu_ns(server_pid);
	int64_t ccpu1 = procstat_self_cpu_ns();
	l.running.store(false);
	{
		std::unique_lock<std::mutex> g(l.mtx);
		l.cv.wait_for(g, std::chrono::milliseconds(l.timeout_ms + 2000),
		              [&] { return l.n_idle == l.slots.size(); });
		if (l.n_idle != l.slots.size()) {
			std::cerr
			    << "calls still in flight after the deadline\n";
			std::_Exit(1);
		}
	}

	static struct hist all;
	uint64_t ok = 0, errors = 0, bytes = 0;
	hist_reset(&all);
	for (auto &s : l.slots) {
		hist_merge(&all, &s.h);
		ok += s.ok;
		errors += s.errors;
		bytes += s.bytes;
	}
	double secs = (double)(t1 - t0) / 1e9;
	double scpu = (scpu0 >= 0 && scpu1 >= 0 && ok > 0)
	                  ? (double)(scpu1 - scpu0) / 1e3 / (double)ok
	                  : -1;
	double ccpu = ok > 0 ? (double)(ccpu1 - ccpu0) / 1e3 / (double)ok : -1;
	printf("rps=%.0f p50_us=%.2f p99_us=%.2f max_us=%.2f ok=%llu "
	       "errors=%llu secs=%.3f reply_bytes=%.0f server_cpu_us=%.3f "
	       "client_cpu_us=%.3f server_cores=%.3f\n",
	       (double)ok / secs, (double)hist_quantile(&all, 0.50) / 1e3,
	       (double)hist_quantile(&all, 0.99) / 1e3, (double)all.max / 1e3,
	       (unsigned long long)ok, (unsigned long long)errors, secs,
	       ok > 0 ? (double)bytes / (double)ok : 0, scpu, ccpu,
	       scpu >= 0 ? (double)(scpu1 - scpu0) / 1e9 / secs : -1);
	fflush(stdout);
	return ok > 0 ? 0 : 1;
}
