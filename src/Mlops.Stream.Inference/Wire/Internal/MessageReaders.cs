using System.Text.Json;

namespace Mlops.Stream.Inference.Wire.Internal;

/// <summary>A request's members as read, before the whole-request checks.</summary>
internal readonly record struct ParsedRequest(
    string? Id, List<Tensor>? Inputs, List<string>? Outputs, Dictionary<string, JsonElement>? Parameters)
{
    public InferenceRequest Build(DecodeOptions options)
    {
        if (string.IsNullOrEmpty(Id))
        {
            throw JsonReading.Invalid("request has no \"id\" (every request needs one to be traced and de-duplicated)");
        }

        if (System.Text.Encoding.UTF8.GetByteCount(Id) is var idBytes && idBytes > options.MaxIdBytes)
        {
            // The message quotes only the id's start: the whole id is what was too long to copy around.
            throw new InferenceRequestException(InferenceErrorCode.IdTooLong,
                $"request id '{Id[..Math.Min(Id.Length, 32)]}…' is {idBytes} bytes long; the limit is {options.MaxIdBytes}");
        }

        if (Inputs is null || Inputs.Count == 0)
        {
            throw new InferenceRequestException(InferenceErrorCode.MissingInput, $"request '{Id}' has no inputs");
        }

        return new InferenceRequest(Id, Inputs) { RequestedOutputs = Outputs, Parameters = Parameters };
    }
}

/// <summary>Reads whole v2 request, response and error bodies from a positioned reader.</summary>
internal static class MessageReaders
{
    /// <summary>Reads and checks a request (for converters, where the caller owns the reader).</summary>
    public static InferenceRequest ReadRequest(ref Utf8JsonReader reader, DecodeOptions options, long maxElements) =>
        ParseRequest(ref reader, options, maxElements).Build(options);

    /// <summary>
    /// Reads a request's members without the whole-request checks (id present, inputs present),
    /// so a caller can first confirm the body ends cleanly: malformed JSON must be reported as
    /// invalid_json even when the part before the damage happens to lack an id.
    /// </summary>
    public static ParsedRequest ParseRequest(ref Utf8JsonReader reader, DecodeOptions options, long maxElements)
    {
        StartObject(ref reader, "request");
        string? id = null;
        List<Tensor>? inputs = null;
        List<string>? outputs = null;
        Dictionary<string, JsonElement>? parameters = null;

        while (true)
        {
            JsonReading.Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            if (reader.ValueTextEquals("id"u8))
            {
                id = JsonReading.ReadString(ref reader, "\"id\"");
            }
            else if (reader.ValueTextEquals("inputs"u8))
            {
                inputs = ReadTensors(ref reader, "input", options, maxElements, options.NonFinite == NonFinitePolicy.Allow);
            }
            else if (reader.ValueTextEquals("outputs"u8))
            {
                outputs = ReadRequestedOutputs(ref reader);
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                parameters = JsonReading.ReadParameters(ref reader, "request");
            }
            else
            {
                JsonReading.Next(ref reader);
                JsonReading.SkipValue(ref reader);
            }
        }

        return new ParsedRequest(id, inputs, outputs, parameters);
    }

    public static InferenceResponse ReadResponse(ref Utf8JsonReader reader, DecodeOptions options, long maxElements)
    {
        StartObject(ref reader, "response");
        string? id = null;
        string? modelName = null;
        string? modelVersion = null;
        List<Tensor>? outputs = null;
        Dictionary<string, JsonElement>? parameters = null;

        while (true)
        {
            JsonReading.Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            if (reader.ValueTextEquals("id"u8))
            {
                id = JsonReading.ReadString(ref reader, "\"id\"");
            }
            else if (reader.ValueTextEquals("model_name"u8))
            {
                modelName = JsonReading.ReadString(ref reader, "\"model_name\"");
            }
            else if (reader.ValueTextEquals("model_version"u8))
            {
                modelVersion = JsonReading.ReadString(ref reader, "\"model_version\"");
            }
            else if (reader.ValueTextEquals("outputs"u8))
            {
                // Model outputs may legitimately be NaN; a response reader reports what was served.
                outputs = ReadTensors(ref reader, "output", options, maxElements, allowNonFinite: true);
            }
            else if (reader.ValueTextEquals("parameters"u8))
            {
                parameters = JsonReading.ReadParameters(ref reader, "response");
            }
            else
            {
                JsonReading.Next(ref reader);
                JsonReading.SkipValue(ref reader);
            }
        }

        if (id is null || modelName is null)
        {
            throw JsonReading.Invalid("response needs \"id\" and \"model_name\"");
        }

        return new InferenceResponse(id, modelName, modelVersion ?? "", (IReadOnlyList<Tensor>?)outputs ?? [])
        {
            Parameters = parameters,
        };
    }

    public static InferenceError ReadError(ref Utf8JsonReader reader)
    {
        StartObject(ref reader, "error body");
        string? message = null;
        var code = InferenceErrorCode.InvalidRequest;
        while (true)
        {
            JsonReading.Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject)
            {
                break;
            }

            if (reader.ValueTextEquals("error"u8))
            {
                message = JsonReading.ReadString(ref reader, "\"error\"");
            }
            else if (reader.ValueTextEquals("code"u8))
            {
                var wire = JsonReading.ReadString(ref reader, "\"code\"");
                if (!InferenceErrorCodes.TryParse(wire, out code))
                {
                    throw JsonReading.Invalid($"unknown error code '{wire}'");
                }
            }
            else
            {
                JsonReading.Next(ref reader);
                JsonReading.SkipValue(ref reader);
            }
        }

        return new InferenceError(code, message ?? throw JsonReading.Invalid("error body has no \"error\""));
    }

    private static void StartObject(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType == JsonTokenType.None)
        {
            JsonReading.Next(ref reader);
        }

        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw JsonReading.Invalid($"{what} must be a JSON object, found {JsonReading.Describe(ref reader)}");
        }
    }

    private static List<Tensor> ReadTensors(ref Utf8JsonReader reader, string role, DecodeOptions options, long maxElements, bool allowNonFinite)
    {
        JsonReading.Next(ref reader);
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw JsonReading.Invalid($"\"{role}s\" must be an array, found {JsonReading.Describe(ref reader)}");
        }

        var tensors = new List<Tensor>();
        while (true)
        {
            JsonReading.Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return tensors;
            }

            var tensor = TensorObjectReader.Read(ref reader, role, tensors.Count, options, maxElements, allowNonFinite);
            foreach (var existing in tensors)
            {
                if (existing.Name == tensor.Name)
                {
                    throw new InferenceRequestException(
                        InferenceErrorCode.DuplicateInput, $"{role} '{tensor.Name}' appears more than once");
                }
            }

            tensors.Add(tensor);
        }
    }

    private static List<string> ReadRequestedOutputs(ref Utf8JsonReader reader)
    {
        JsonReading.Next(ref reader);
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw JsonReading.Invalid($"\"outputs\" must be an array, found {JsonReading.Describe(ref reader)}");
        }

        var names = new List<string>();
        while (true)
        {
            JsonReading.Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray)
            {
                return names;
            }

            if (reader.TokenType != JsonTokenType.StartObject)
            {
                throw JsonReading.Invalid($"requested output #{names.Count} must be an object with a \"name\"");
            }

            string? name = null;
            while (true)
            {
                JsonReading.Next(ref reader);
                if (reader.TokenType == JsonTokenType.EndObject)
                {
                    break;
                }

                if (reader.ValueTextEquals("name"u8))
                {
                    name = JsonReading.ReadString(ref reader, $"requested output #{names.Count}: \"name\"");
                }
                else
                {
                    // Per-output parameters (e.g. classification) are not supported and ignored.
                    JsonReading.Next(ref reader);
                    JsonReading.SkipValue(ref reader);
                }
            }

            names.Add(name ?? throw JsonReading.Invalid($"requested output #{names.Count} has no \"name\""));
        }
    }
}
