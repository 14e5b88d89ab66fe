using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Core;
using Mlops.Stream.Grpc.Tests.Support;
using V1 = Grpc.Reflection.V1;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace Mlops.Stream.Grpc.Tests;

/// <summary>
/// Server reflection, which grpcurl and other generic clients use instead of a local .proto: it
/// lists the service and serves its file, with the six methods of the protocol, without a key.
/// </summary>
public sealed class GrpcReflectionTests : IAsyncLifetime
{
    private const string Service = "inference.GRPCInferenceService";

    private GrpcTestApp _app = null!;

    public async Task InitializeAsync() =>
        // An infer key is configured: reflection still needs none, as the health calls do not.
        _app = await GrpcTestApp.StartAsync(security: s => s.InferKeys = [Http.Tests.Support.Keys.InferKey]);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Reflection_v1_lists_the_inference_service_and_serves_its_file_with_the_six_methods()
    {
        var client = new V1.ServerReflection.ServerReflectionClient(_app.Channel);
        using var call = client.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new V1.ServerReflectionRequest { ListServices = "" });
        await call.ResponseStream.MoveNext();
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        await call.RequestStream.WriteAsync(new V1.ServerReflectionRequest { FileContainingSymbol = Service });
        await call.ResponseStream.MoveNext();
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto;
        await call.RequestStream.CompleteAsync();

        Assert.Contains(Service, services);
        AssertProtocolFile(files);
    }

    [Fact]
    public async Task Reflection_v1alpha_answers_too_for_older_clients()
    {
        var client = new V1Alpha.ServerReflection.ServerReflectionClient(_app.Channel);
        using var call = client.ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new V1Alpha.ServerReflectionRequest { ListServices = "" });
        await call.ResponseStream.MoveNext();
        var services = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        await call.RequestStream.WriteAsync(new V1Alpha.ServerReflectionRequest { FileContainingSymbol = Service });
        await call.ResponseStream.MoveNext();
        var files = call.ResponseStream.Current.FileDescriptorResponse.FileDescriptorProto;
        await call.RequestStream.CompleteAsync();

        Assert.Contains(Service, services);
        AssertProtocolFile(files);
    }

    private static void AssertProtocolFile(IEnumerable<ByteString> files)
    {
        var file = files.Select(FileDescriptorProto.Parser.ParseFrom).Single(f => f.Service.Any(s => s.Name == "GRPCInferenceService"));
        Assert.Equal("inference", file.Package);
        var service = file.Service.Single(s => s.Name == "GRPCInferenceService");
        Assert.Equal(["ServerLive", "ServerReady", "ModelReady", "ServerMetadata", "ModelMetadata", "ModelInfer"], service.Method.Select(m => m.Name));
        Assert.Equal(".inference.ModelInferRequest", service.Method.Single(m => m.Name == "ModelInfer").InputType);
    }
}
