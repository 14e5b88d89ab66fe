using System.Text;
using Confluent.Kafka;

namespace Mlops.Stream.Actors.Serving;

/// <summary>How the value of a request or prediction record is encoded.</summary>
public enum RecordEncoding
{
    /// <summary>Open Inference Protocol v2 JSON: the default, a record without a <c>content-type</c> header.</summary>
    Json,

    /// <summary>The protocol's protobuf messages: <c>inference.ModelInferRequest</c> in, <c>inference.ModelInferResponse</c> out (as Seldon writes on its topics).</summary>
    Protobuf,
}

/// <summary>
/// The headers that choose a record's encoding, after the CloudEvents Kafka binding (<c>content-type</c>)
/// and HTTP (<c>accept</c>): a request's <c>content-type</c> says how its value is encoded (none = JSON);
/// its <c>accept</c> asks for its prediction in another encoding than the request's. Predictions
/// carry the <c>content-type</c> of their own value. Media types are compared without case and
/// parameters other than <c>messageType</c> are ignored.
/// </summary>
public static class RecordContentTypes
{
    public const string ContentTypeHeader = "content-type";
    public const string AcceptHeader = "accept";

    public const string Json = "application/json";
    public const string ProtobufRequest = "application/x-protobuf; messageType=inference.ModelInferRequest";
    public const string ProtobufResponse = "application/x-protobuf; messageType=inference.ModelInferResponse";

    /// <summary>Dead-letter code of a request whose headers name an encoding this server does not read or write.</summary>
    public const string UnsupportedContentTypeCode = "unsupported_content_type";

    private const string RequestMessage = "inference.ModelInferRequest";
    private const string ResponseMessage = "inference.ModelInferResponse";

    public static string Of(RecordEncoding encoding, bool request) =>
        encoding == RecordEncoding.Json ? Json : request ? ProtobufRequest : ProtobufResponse;

    /// <summary>
    /// The request's encoding and the one its prediction is written in, from its headers; or why the
    /// headers cannot be honoured (the record is then a dead letter with <see cref="UnsupportedContentTypeCode"/>).
    /// </summary>
    public static bool TryChoose(Headers? headers, out RecordEncoding request, out RecordEncoding answer, out string? problem)
    {
        answer = request = RecordEncoding.Json;
        problem = null;
        if (Last(headers, ContentTypeHeader) is { } contentType && !TryParse(contentType, RequestMessage, out request))
        {
            problem = $"The record's {ContentTypeHeader} header is '{contentType}'; requests are read as {Json} (or no header) or {ProtobufRequest}.";
            return false;
        }
        answer = request;
        if (Last(headers, AcceptHeader) is { } accept && accept.Trim() != "*/*" && !TryParse(accept, ResponseMessage, out answer))
        {
            problem = $"The record's {AcceptHeader} header is '{accept}'; predictions are written as {Json} or {ProtobufResponse} (or, with no header, as the request is).";
            return false;
        }
        return true;
    }

    /// <summary>application/json, or application/x-protobuf (application/protobuf too) whose messageType, if given, is <paramref name="message"/>.</summary>
    private static bool TryParse(string value, string message, out RecordEncoding encoding)
    {
        encoding = RecordEncoding.Json;
        var parts = value.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0) return false;
        var mediaType = parts[0];
        if (mediaType.Equals(Json, StringComparison.OrdinalIgnoreCase)) return true;
        if (!mediaType.Equals("application/x-protobuf", StringComparison.OrdinalIgnoreCase)
            && !mediaType.Equals("application/protobuf", StringComparison.OrdinalIgnoreCase)) return false;
        foreach (var parameter in parts.Skip(1))
        {
            var (name, given) = parameter.IndexOf('=') is var at and > 0 ? (parameter[..at].Trim(), parameter[(at + 1)..].Trim().Trim('"')) : (parameter, "");
            if (name.Equals("messageType", StringComparison.OrdinalIgnoreCase) && !given.Equals(message, StringComparison.Ordinal)) return false;
        }
        encoding = RecordEncoding.Protobuf;
        return true;
    }

    /// <summary>The last header of that name as text; null when absent or null; bytes that are not UTF-8 come back as a text naming no media type, so they are refused.</summary>
    private static string? Last(Headers? headers, string name)
    {
        if (headers is null || !headers.TryGetLastBytes(name, out var bytes) || bytes is null) return null;
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return "(not UTF-8)";
        }
    }
}
