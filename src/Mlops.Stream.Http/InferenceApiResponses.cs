using System.Globalization;
using System.Reflection;
using System.Text.Json.Serialization;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Http;

/// <summary><c>GET /v2</c>: the Open Inference Protocol server metadata.</summary>
public sealed record ServerMetadataResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("extensions")] IReadOnlyList<string> Extensions)
{
    public const string ServerName = "mlops-stream";

    /// <summary>This build's informational version, the same source <c>/api/v1/system</c> reads.</summary>
    public static ServerMetadataResponse Current { get; } = new(ServerName, BuildVersion(), []);

    private static string BuildVersion()
    {
        var assembly = typeof(ServerMetadataResponse).Assembly;
        return assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            ?? assembly.GetName().Version?.ToString()
            ?? "unknown";
    }
}

/// <summary>
/// <c>GET /v2/models/{model}[/versions/{version}]</c>: the v2 model metadata. Versions are strings
/// as the protocol specifies; inputs and outputs are empty while the signature is unknown.
/// </summary>
public sealed record ModelMetadataResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("versions")] IReadOnlyList<string> Versions,
    [property: JsonPropertyName("platform")] string Platform,
    [property: JsonPropertyName("inputs")] IReadOnlyList<TensorMetadata> Inputs,
    [property: JsonPropertyName("outputs")] IReadOnlyList<TensorMetadata> Outputs)
{
    public static ModelMetadataResponse From(ModelStatus status) => new(
        status.Name,
        status.Versions.Select(v => v.ToString(CultureInfo.InvariantCulture)).ToList(),
        status.Platform,
        status.Signature is { } signature ? signature.Inputs.Select(TensorMetadata.From).ToList() : [],
        status.Signature is { } outputs ? outputs.Outputs.Select(TensorMetadata.From).ToList() : []);
}

/// <summary>One input or output in v2 model metadata; -1 marks a dimension of any size.</summary>
public sealed record TensorMetadata(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string DataType,
    [property: JsonPropertyName("shape")] IReadOnlyList<long> Shape)
{
    public static TensorMetadata From(TensorSpec spec) => new(spec.Name, spec.DataType.ToWireName(), spec.Shape.ToArray());
}

/// <summary>The 200 body of the v2 model-ready endpoints (KServe's shape); not ready is a 503 <see cref="ErrorResponse"/>.</summary>
public sealed record ModelReadyResponse(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("ready")] bool Ready);

/// <summary>The 200 body of <c>/v2/health/live</c>.</summary>
public sealed record ServerLiveResponse([property: JsonPropertyName("live")] bool Live);

/// <summary>The 200 body of <c>/v2/health/ready</c>; not ready is a 503 <see cref="ErrorResponse"/> naming the models.</summary>
public sealed record ServerReadyResponse([property: JsonPropertyName("ready")] bool Ready);
