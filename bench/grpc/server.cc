// secstat-bench-grpc-server: the gRPC baseline. A C++ unary server (the
// callback API, gRPC's recommended asynchronous server) that answers
// every Call with a pre-built secstat.v1.Reply parsed once from the
// bytes secstatd sent (--reply FILE), so both servers put the same
// message on the wire. Like any gRPC service it hands gRPC a message
// object, which gRPC serializes per response.
//
// secstat-bench-grpc-server --listen HOST:PORT --reply FILE
//     [--tls-cert FILE --tls-key FILE] [--api callback|sync]
// Runs until SIGINT or SIGTERM.

#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <pthread.h>

#include <grpcpp/grpcpp.h>

#include "secstat_bench.grpc.pb.h"

namespace
{

std::string
read_file(const std::string &path)
{
	std::ifstream in(path, std::ios::binary);
	std::ostringstream ss;

	if (!in) {
		throw std::runtime_error(path + ": cannot open");
	}
	ss << in.rdbuf();
	return ss.str();
}

class Service final : public secstat::bench::SecstatBench::CallbackService
{
      public:
	explicit Service(const secstat::v1::Reply &reply) : reply_(reply)
	{
	}

	grpc::ServerUnaryReactor *Call(grpc::CallbackServerContext *ctx,
	                               const secstat::v1::Request *req,
	                               secstat::v1::Reply *resp) override
	{
		// The cheapest way a typed gRPC service can answer with a
		// message it already has: copy it into the response.
		*resp = reply_;
		resp->set_request_id(req->request_id());
		grpc::ServerUnaryReactor *r = ctx->DefaultReactor();
		r->Finish(grpc::Status::OK);
		return r;
	}

      private:
	const secstat::v1::Reply &reply_;
};

// The same service on gRPC's synchronous API (a thread pool runs the
// handlers), to check that the choice of API does not handicap gRPC.
class SyncService final : public secstat::bench::SecstatBench::Service
{
      public:
	explicit SyncService(const secstat::v1::Reply &reply) : reply_(reply)
	{
	}

	grpc::Status Call(grpc::ServerContext *,
	                  const secstat::v1::Request *req,
	                  secstat::v1::Reply *resp) override
	{
		*resp = reply_;
		resp->set_request_id(req->request_id());
		return grpc::Status::OK;
	}

      private:
	const secstat::v1::Reply &reply_;
};

} // namespace

int
main(int argc, char *argv[])
{
	std::string listen, reply_path, cert, key, api = "callback";

	for (int i = 1; i + 1 < argc; i += 2) {
		std::string opt = argv[i];
		if (opt == "--listen") {
			listen = argv[i + 1];
		} else if (opt == "--reply") {
			reply_path = argv[i + 1];
		} else if (opt == "--tls-cert") {
			cert = argv[i + 1];
		} else if (opt == "--tls-key") {
			key = argv[i + 1];
		} else if (opt == "--api") {
			api = argv[i + 1];
		} else {
			std::cerr << "unknown option " << opt << "\n";
			return 2;
		}
	}
	if (listen.empty() || reply_path.empty()) {
		std::cerr
		    << "usage: secstat-bench-grpc-server --listen HOST:PORT "
		       "--reply FILE [--tls-cert F --tls-key F]\n";
		return 2;
	}

	secstat::v1::Reply reply;
	try {
		if (!reply.ParseFromString(read_file(reply_path))) {
			std::cerr << reply_path << ": not a secstat.v1.Reply\n";
			return 1;
		}
	} catch (const std::exception &e) {
		std::cerr << e.what() << "\n";
		return 1;
	}

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

	std::shared_ptr<grpc::ServerCredentials> creds;
	if (!cert.empty()) {
		grpc::SslServerCredentialsOptions opts;
		opts.pem_key_cert_pairs.push_back(
		    {read_file(key), read_file(cert)});
		creds = grpc::SslServerCredentials(opts);
	} else {
		creds = grpc::InsecureServerCredentials();
	}

	Service service(reply);
	SyncService sync_service(reply);
	grpc::ServerBuilder builder;
	builder.AddListeningPort(listen, creds);
	if (api == "sync") {
		builder.RegisterService(&sync_service);
	} else {
		builder.RegisterService(&service);
	}
	std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
	if (!server) {
		std::cerr << listen << ": cannot listen\n";
		return 1;
	}

	int sig;
	sigwait(&sigs, &sig);
	server->Shutdown();
	return 0;
}
