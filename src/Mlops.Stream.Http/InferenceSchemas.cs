using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlops.Stream.Http;

// The Open Inference Protocol v2 infer bodies, for the OpenAPI document only: the edge hands infer
// bodies to the serving side's codec as bytes (InferenceCodec owns reading and writing them), so these
// records describe the wire shape and are never (de)serialised. Optional fields have defaults, so the
// schema does not list them as required.

/// <summary>A v2 infer request: <c>inputs</c> are tensors, <c>outputs</c> optionally names which outputs to return.</summary>
public sealed record InferRequestBody(
    [property: JsonPropertyName("inputs")] IReadOnlyList<InferInputTensor> Inputs,
    [property: JsonPropertyName("id")] string? Id = null,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, JsonElement>? Parameters = null,
    [property: JsonPropertyName("outputs")] IReadOnlyList<InferRequestedOutput>? Outputs = null);

/// <summary>
/// One input tensor: <c>datatype</c> is a v2 type (<c>FP32</c>, <c>INT64</c>, <c>BYTES</c>, ...);
/// <c>data</c> holds the elements in row-major order, flat or nested. With the binary tensor
/// extension, <c>parameters.binary_data_size</c> gives the byte count instead of <c>data</c>.
/// </summary>
public sealed record InferInputTensor(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("shape")] IReadOnlyList<long> Shape,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, JsonElement>? Parameters = null,
    [property: JsonPropertyName("data")] JsonElement? Data = null);

/// <summary>An output to return; <c>parameters.binary_data: true</c> asks for it as binary (the binary tensor extension).</summary>
public sealed record InferRequestedOutput(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, JsonElement>? Parameters = null);

/// <summary>A v2 infer response: the model and version that answered, the request's <c>id</c>, the output tensors.</summary>
public sealed record InferResponseBody(
    [property: JsonPropertyName("model_name")] string ModelName,
    [property: JsonPropertyName("model_version")] string ModelVersion,
    [property: JsonPropertyName("outputs")] IReadOnlyList<InferOutputTensor> Outputs,
    [property: JsonPropertyName("id")] string? Id = null,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, JsonElement>? Parameters = null);

public sealed record InferOutputTensor(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("shape")] IReadOnlyList<long> Shape,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("parameters")] IReadOnlyDictionary<string, JsonElement>? Parameters = null,
    [property: JsonPropertyName("data")] JsonElement? Data = null);
