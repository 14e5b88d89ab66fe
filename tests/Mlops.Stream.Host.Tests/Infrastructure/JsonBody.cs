using System.Net.Http.Headers;

namespace Mlops.Stream.Host.Tests.Infrastructure;

/// <summary>Request bodies as the node accepts them on infer: <c>application/json</c>, anything else is 415.</summary>
public static class JsonBody
{
    public static ByteArrayContent From(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}
