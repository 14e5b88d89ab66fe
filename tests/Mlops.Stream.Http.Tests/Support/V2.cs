using System.Net.Http.Headers;
using System.Text;

namespace Mlops.Stream.Http.Tests.Support;

/// <summary>Small helpers for v2 bodies in tests.</summary>
public static class V2
{
    public const string Request = """{"id":"r1","inputs":[{"name":"features","shape":[1,2],"datatype":"FP32","data":[0.5,1.5]}]}""";

    public static ByteArrayContent Json(string json) => Json(Encoding.UTF8.GetBytes(json));

    public static ByteArrayContent Json(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    /// <summary>Reads an error body <c>{"error", "code"?}</c>, keeping the property names so tests can check nothing else is there.</summary>
    public static async Task<InferenceErrorBody> ReadErrorAsync(HttpResponseMessage response)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync();
        using var document = System.Text.Json.JsonDocument.Parse(bytes);
        var root = document.RootElement;
        var code = root.TryGetProperty("code", out var c) ? c.GetString() : null;
        return new InferenceErrorBody(root.GetProperty("error").GetString()!, code, root.EnumerateObject().Select(p => p.Name).ToList());
    }
}

/// <summary>An error body as read: message, optional code and the property names present.</summary>
public sealed record InferenceErrorBody(string Error, string? Code, IReadOnlyList<string> Properties);
