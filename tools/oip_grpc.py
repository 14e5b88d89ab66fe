#!/usr/bin/python3
"""A small grpcurl stand-in for the node's gRPC port, on Debian's packages only.

grpcurl is not packaged for Debian 12 (nor on npm), so this does the part of it that the README
shows, the same way: it asks the server's reflection service for the services and their .proto
files, builds the message types from those descriptors at run time, and reads and prints JSON.
No local copy of the protocol's .proto is used.

    apt-get install python3-grpcio python3-protobuf protobuf-compiler grpc-proto
    tools/oip_grpc.py 127.0.0.1:8081 list
    tools/oip_grpc.py --cacert node.crt 127.0.0.1:8081 list        # a node serving TLS (Tls:CertificatePath)
    tools/oip_grpc.py 127.0.0.1:8081 describe inference.GRPCInferenceService
    tools/oip_grpc.py -H 'authorization: Bearer KEY' -d '{"name":"fraud-demo"}' 127.0.0.1:8081 inference.GRPCInferenceService/ModelMetadata

Exit codes: 0 ok, 1 the call failed (the gRPC status is printed), 2 usage.
"""
import argparse
import importlib.util
import subprocess
import sys
import tempfile

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

REFLECTION_PROTO = "grpc/reflection/v1alpha/reflection.proto"
GRPC_PROTO_ROOT = "/usr/share/grpc-proto"  # from Debian's grpc-proto package


def reflection_messages():
    """The reflection protocol's own messages, compiled from grpc-proto's file by protoc."""
    out = tempfile.mkdtemp(prefix="oip-grpc-")
    subprocess.run(["protoc", f"-I{GRPC_PROTO_ROOT}", f"--python_out={out}", REFLECTION_PROTO], check=True)
    # Loaded by path under a name of its own: its package path would clash with the grpc package.
    path = f"{out}/{REFLECTION_PROTO[:-len('.proto')]}_pb2.py"
    spec = importlib.util.spec_from_file_location("oip_reflection_pb2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Reflection:
    def __init__(self, channel, metadata):
        self._pb = reflection_messages()
        self._call = channel.stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=self._pb.ServerReflectionRequest.SerializeToString,
            response_deserializer=self._pb.ServerReflectionResponse.FromString)
        self._metadata = metadata

    def _ask(self, **request):
        response = next(self._call(iter([self._pb.ServerReflectionRequest(**request)]), metadata=self._metadata))
        if response.HasField("error_response"):
            raise SystemExit(f"reflection: {response.error_response.error_message}")
        return response

    def services(self):
        return [s.name for s in self._ask(list_services="").list_services_response.service]

    def pool_for(self, symbol):
        """A descriptor pool holding the file that defines symbol and every file it imports."""
        pool = descriptor_pool.DescriptorPool()
        files = [descriptor_pb2.FileDescriptorProto.FromString(raw)
                 for raw in self._ask(file_containing_symbol=symbol).file_descriptor_response.file_descriptor_proto]
        added = set()
        while files:  # dependencies first
            ready = [f for f in files if all(d in added for d in f.dependency)] or files[:1]
            for f in ready:
                pool.Add(f)
                added.add(f.name)
                files.remove(f)
        return pool


def describe(pool, service_name):
    service = pool.FindServiceByName(service_name)
    print(f"{service.full_name} is a service:")
    for method in service.methods:
        print(f"  rpc {method.name} ( .{method.input_type.full_name} ) returns ( .{method.output_type.full_name} );")


def message_class(pool, descriptor):
    # GetMessageClass is protobuf 4.22+; Debian 12 ships 4.21, which has MessageFactory.GetPrototype.
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(descriptor)
    return message_factory.MessageFactory(pool).GetPrototype(descriptor)


def call(channel, pool, method_path, data, metadata):
    service_name, method_name = method_path.rsplit("/", 1)
    method = pool.FindServiceByName(service_name).methods_by_name[method_name]
    request_type = message_class(pool, method.input_type)
    response_type = message_class(pool, method.output_type)
    request = json_format.Parse(data or "{}", request_type())
    stub = channel.unary_unary(f"/{service_name}/{method_name}",
                               request_serializer=request_type.SerializeToString,
                               response_deserializer=response_type.FromString)
    try:
        response = stub(request, metadata=metadata)
    except grpc.RpcError as e:
        # The server's own trailers (the error code, retry-after), not HTTP's date and length.
        trailers = ", ".join(f"{k}: {v}" for k, v in (e.trailing_metadata() or []) if k.startswith("mlops-") or k == "retry-after")
        print(f"ERROR:\n  Code: {e.code().name}\n  Message: {e.details()}" + (f"\n  Trailers: {trailers}" if trailers else ""))
        return 1
    print(json_format.MessageToJson(response, indent=2))
    return 0


def main():
    parser = argparse.ArgumentParser(description="grpcurl-like calls to an Open Inference Protocol gRPC server, through reflection")
    parser.add_argument("-H", dest="headers", action="append", default=[], help="metadata 'name: value', e.g. 'authorization: Bearer KEY'")
    parser.add_argument("-d", dest="data", help="the request as JSON (proto3 JSON mapping)")
    parser.add_argument("--cacert", help="PEM file to trust: the server speaks TLS (its Grpc:Url is https://)")
    parser.add_argument("address", help="host:port of the gRPC server (plaintext h2c, or TLS with --cacert)")
    parser.add_argument("verb", nargs="+", help="list | describe SERVICE | SERVICE/METHOD")
    args = parser.parse_args()
    metadata = [tuple(part.strip() for part in h.split(":", 1)) for h in args.headers]
    metadata = [(name.lower(), value) for name, value in metadata]
    if args.cacert:
        with open(args.cacert, "rb") as pem:
            credentials = grpc.ssl_channel_credentials(root_certificates=pem.read())
        channel = grpc.secure_channel(args.address, credentials)
    else:
        channel = grpc.insecure_channel(args.address)
    with channel:
        reflection = Reflection(channel, metadata)
        verb = args.verb[0]
        if verb == "list":
            print("\n".join(sorted(reflection.services())))
            return 0
        if verb == "describe" and len(args.verb) == 2:
            describe(reflection.pool_for(args.verb[1]), args.verb[1])
            return 0
        if "/" in verb:
            return call(channel, reflection.pool_for(verb.rsplit("/", 1)[0]), verb, args.data, metadata)
    parser.print_usage(sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
