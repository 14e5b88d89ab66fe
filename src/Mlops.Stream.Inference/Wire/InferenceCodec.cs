using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Mlops.Stream.Inference.Wire.Internal;

namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// The one Open Inference Protocol (KServe v2) JSON codec, shared by the Kafka and HTTP paths.
/// Decoding turns flat or nested "data" into typed flat arrays checked against "shape" and fails
/// with an <see cref="InferenceError"/> whose code is stable (see <see cref="InferenceErrorCode"/>).
/// Encoding writes straight to a Utf8JsonWriter; no reflection anywhere.
/// </summary>
public static class InferenceCodec
{
    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,
        MaxDepth = 64,
    };

    // Our writers emit well-formed JSON by construction, so the writer's own structure checks
    // are skipped on the hot path; the writer is cached per thread to avoid one allocation per call.
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    [ThreadStatic]
    private static Utf8JsonWriter? cachedWriter;

    /// <summary>Decodes a request body; throws <see cref="InferenceRequestException"/> on any problem.</summary>
    public static InferenceRequest DecodeRequest(ReadOnlySpan<byte> utf8Json, DecodeOptions? options = null)
    {
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        try
        {
            // Every element needs at least one byte, so the body length bounds the element count
            // before anything is allocated for a declared shape.
            options ??= DecodeOptions.Default;
            var parsed = MessageReaders.ParseRequest(ref reader, options, utf8Json.Length);
            EnsureEnd(ref reader);
            return parsed.Build(options);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw InvalidJson("request", e);
        }
    }

    /// <summary>Decodes a request body, returning the error instead of throwing.</summary>
    public static bool TryDecodeRequest(
        ReadOnlySpan<byte> utf8Json,
        [NotNullWhen(true)] out InferenceRequest? request,
        [NotNullWhen(false)] out InferenceError? error,
        DecodeOptions? options = null)
    {
        try
        {
            request = DecodeRequest(utf8Json, options);
            error = null;
            return true;
        }
        catch (InferenceRequestException e)
        {
            request = null;
            error = e.Error;
            return false;
        }
    }

    /// <summary>Decodes a response body (consumers of the predictions topic, the CLI, tests).</summary>
    public static InferenceResponse DecodeResponse(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        try
        {
            var response = MessageReaders.ReadResponse(ref reader, DecodeOptions.Default, utf8Json.Length);
            EnsureEnd(ref reader);
            return response;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw InvalidJson("response", e);
        }
    }

    /// <summary>Decodes an error body <c>{"error": ..., "code": ...}</c>.</summary>
    public static InferenceError DecodeError(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        try
        {
            var error = MessageReaders.ReadError(ref reader);
            EnsureEnd(ref reader);
            return error;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            throw InvalidJson("error body", e);
        }
    }

    public static void WriteRequest(Utf8JsonWriter writer, InferenceRequest request) => MessageWriters.WriteRequest(writer, request);

    public static void WriteResponse(Utf8JsonWriter writer, InferenceResponse response) => MessageWriters.WriteResponse(writer, response);

    public static void WriteError(Utf8JsonWriter writer, InferenceError error) => MessageWriters.WriteError(writer, error);

    /// <summary>Encodes into a caller-owned buffer (pooled Kafka or HTTP buffers).</summary>
    public static void EncodeRequest(IBufferWriter<byte> output, InferenceRequest request) =>
        Encode(output, request, MessageWriters.WriteRequest);

    public static void EncodeResponse(IBufferWriter<byte> output, InferenceResponse response) =>
        Encode(output, response, MessageWriters.WriteResponse);

    public static void EncodeError(IBufferWriter<byte> output, InferenceError error) =>
        Encode(output, error, MessageWriters.WriteError);

    public static byte[] EncodeRequest(InferenceRequest request) => ToArray(request, MessageWriters.WriteRequest);

    public static byte[] EncodeResponse(InferenceResponse response) => ToArray(response, MessageWriters.WriteResponse);

    public static byte[] EncodeError(InferenceError error) => ToArray(error, MessageWriters.WriteError);

    private static byte[] ToArray<T>(T value, Action<Utf8JsonWriter, T> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        Encode(buffer, value, write);
        return buffer.WrittenSpan.ToArray();
    }

    private static void Encode<T>(IBufferWriter<byte> output, T value, Action<Utf8JsonWriter, T> write)
    {
        var writer = cachedWriter;
        if (writer is null)
        {
            writer = new Utf8JsonWriter(output, WriterOptions);
            cachedWriter = writer;
        }
        else
        {
            writer.Reset(output);
        }

        try
        {
            write(writer, value);
            writer.Flush();
        }
        finally
        {
            // Drop the reference to the caller's buffer so the cache does not keep it alive.
            writer.Reset(System.IO.Stream.Null);
        }
    }

    private static void EnsureEnd(ref Utf8JsonReader reader)
    {
        // With a final block, Read() throws on anything but whitespace after the top-level value.
        if (reader.Read())
        {
            throw new InferenceRequestException(InferenceErrorCode.InvalidJson, "unexpected data after the JSON body");
        }
    }

    private static InferenceRequestException InvalidJson(string what, Exception e) =>
        new(InferenceErrorCode.InvalidJson, $"{what} body is not valid JSON: {e.Message}", e);
}
