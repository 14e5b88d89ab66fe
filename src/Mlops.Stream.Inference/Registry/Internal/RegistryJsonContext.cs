using System.Text.Json.Serialization;

namespace Mlops.Stream.Inference.Registry.Internal;

/// <summary>Source-generated serializers for the registry's files (snake_case, indented for humans).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ModelManifest))]
[JsonSerializable(typeof(ModelAliases))]
[JsonSerializable(typeof(ModelScale))]
internal sealed partial class RegistryJsonContext : JsonSerializerContext;
