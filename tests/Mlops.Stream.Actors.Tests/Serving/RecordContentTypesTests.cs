using System.Text;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Actors.Tests.Serving;

/// <summary>Which encodings a request record's content-type and accept headers choose, and which they cannot.</summary>
public sealed class RecordContentTypesTests
{
    [Theory]
    [InlineData(null, null, RecordEncoding.Json, RecordEncoding.Json)]
    [InlineData("application/json", null, RecordEncoding.Json, RecordEncoding.Json)]
    [InlineData("Application/JSON; charset=utf-8", null, RecordEncoding.Json, RecordEncoding.Json)]
    [InlineData("application/x-protobuf", null, RecordEncoding.Protobuf, RecordEncoding.Protobuf)]
    [InlineData("application/protobuf; messageType=\"inference.ModelInferRequest\"", null, RecordEncoding.Protobuf, RecordEncoding.Protobuf)]
    [InlineData(RecordContentTypes.ProtobufRequest, "application/json", RecordEncoding.Protobuf, RecordEncoding.Json)]
    [InlineData(null, RecordContentTypes.ProtobufResponse, RecordEncoding.Json, RecordEncoding.Protobuf)]
    [InlineData(null, "*/*", RecordEncoding.Json, RecordEncoding.Json)]
    public void Headers_choose_the_request_and_answer_encodings(string? contentType, string? accept, RecordEncoding request, RecordEncoding answer)
    {
        Assert.True(RecordContentTypes.TryChoose(Headers(contentType, accept), out var chosenRequest, out var chosenAnswer, out var problem), problem);
        Assert.Equal((request, answer), (chosenRequest, chosenAnswer));
    }

    [Theory]
    [InlineData("text/csv", null, "content-type")]
    [InlineData("application/x-protobuf; messageType=inference.ModelInferResponse", null, "content-type")]
    [InlineData("", null, "content-type")]
    [InlineData(null, "application/x-protobuf; messageType=inference.ModelInferRequest", "accept")]
    [InlineData(RecordContentTypes.ProtobufRequest, "text/xml", "accept")]
    public void Other_media_types_are_refused_naming_the_header(string? contentType, string? accept, string header)
    {
        Assert.False(RecordContentTypes.TryChoose(Headers(contentType, accept), out _, out _, out var problem));
        Assert.Contains($"{header} header", problem);
    }

    [Fact]
    public void A_content_type_that_is_not_utf8_is_refused_and_a_null_one_is_no_header()
    {
        var notUtf8 = new Headers { { RecordContentTypes.ContentTypeHeader, [0xC3, 0x28, 0xFF] } };
        Assert.False(RecordContentTypes.TryChoose(notUtf8, out _, out _, out var problem));
        Assert.Contains("not UTF-8", problem);

        Assert.True(RecordContentTypes.TryChoose(new Headers { { RecordContentTypes.ContentTypeHeader, null } }, out var request, out _, out _));
        Assert.Equal(RecordEncoding.Json, request);
    }

    private static Headers Headers(string? contentType, string? accept)
    {
        var headers = new Headers();
        if (contentType is not null) headers.Add(RecordContentTypes.ContentTypeHeader, Encoding.UTF8.GetBytes(contentType));
        if (accept is not null) headers.Add(RecordContentTypes.AcceptHeader, Encoding.UTF8.GetBytes(accept));
        return headers;
    }
}
