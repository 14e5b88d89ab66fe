using System.Text.Json.Serialization;

namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// Source-generated System.Text.Json metadata for the wire types, for hosts that serialize through
/// JsonSerializer (ASP.NET minimal APIs: add it to the TypeInfoResolverChain). The types carry
/// converters that delegate to <see cref="InferenceCodec"/>, so both paths produce identical bytes.
/// </summary>
[JsonSourceGenerationOptions(GenerationMode = JsonSourceGenerationMode.Metadata)]
[JsonSerializable(typeof(InferenceRequest))]
[JsonSerializable(typeof(InferenceResponse))]
[JsonSerializable(typeof(InferenceError))]
public sealed partial class InferenceJsonContext : JsonSerializerContext;
