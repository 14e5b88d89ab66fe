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
        if (!ListenUrl.TryParse(options.Url, out var url, out var problem))
        {
            return ValidateOptionsResult.Fail($"{GrpcServerOptions.UrlKey} {problem}.");
        }
        // The gRPC server is HTTP/2 without TLS (h2c) for now: it has no certificate to serve.
        return url.Text.StartsWith("https", StringComparison.OrdinalIgnoreCase)
            ? ValidateOptionsResult.Fail($"{GrpcServerOptions.UrlKey} '{url.Text}' asks for TLS, which the gRPC port does not serve yet; use http:// (HTTP/2 without TLS).")
            : ValidateOptionsResult.Success;
    }
}
