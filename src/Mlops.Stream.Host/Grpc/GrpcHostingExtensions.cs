using Microsoft.Extensions.Options;
using Mlops.Stream.Grpc;
using Mlops.Stream.Host.Listening;
using Mlops.Stream.Host.Options;

namespace Mlops.Stream.Host.Grpc;

public static class GrpcHostingExtensions
{
    /// <summary>
    /// The Open Inference Protocol gRPC service on its own port (<c>Grpc:Url</c>, <c>Grpc:Enabled</c>),
    /// over the same gateway, keys, rate limits, limits and metrics as the HTTP edge
    /// (<see cref="GrpcInferenceServer"/>). The address is read as strictly as <c>Http:Url</c>, while
    /// the node is composed, and a port another process holds stops the node at start naming the key.
    /// </summary>
    public static WebApplicationBuilder AddMlopsGrpc(this WebApplicationBuilder builder)
    {
        builder.Configuration.BindValidatedNow<GrpcServerOptions, GrpcServerOptionsValidator>(GrpcServerOptions.Section);
        builder.Services.AddSingleton<IValidateOptions<GrpcServerOptions>, GrpcServerOptionsValidator>();
        builder.Services.AddMlopsGrpc();
        return builder;
    }
}

/// <summary>Checks <see cref="GrpcServerOptions"/>; every message names the configuration key.</summary>
public sealed class GrpcServerOptionsValidator : IValidateOptions<GrpcServerOptions>
{
    public ValidateOptionsResult Validate(string? name, GrpcServerOptions options)
    {
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Success;
        }
        // An https:// address needs the node's certificate: TlsSetup checks that, for both ports at once.
        return ListenUrl.TryParse(options.Url, out _, out var problem)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{GrpcServerOptions.UrlKey} {problem}.");
    }
}
