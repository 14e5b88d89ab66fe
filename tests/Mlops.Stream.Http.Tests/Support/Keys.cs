using System.Net.Http.Headers;

namespace Mlops.Stream.Http.Tests.Support;

/// <summary>API keys for security tests, and requests that carry them.</summary>
public static class Keys
{
    public const string AdminKey = "admin-key-7c1e0f5a9b2d4e6f";
    public const string InferKey = "infer-key-3a8b6c0d2e4f1a7b";
    public const string WrongKey = "wrong-key-0000000000000000";

    /// <summary>The callers of the security matrix.</summary>
    public enum Caller
    {
        None,
        WrongKey,
        InferKey,
        AdminKey,
    }

    public static string? For(Caller caller) => caller switch
    {
        Caller.None => null,
        Caller.WrongKey => WrongKey,
        Caller.InferKey => InferKey,
        Caller.AdminKey => AdminKey,
        _ => throw new ArgumentOutOfRangeException(nameof(caller)),
    };

    public static HttpRequestMessage Request(HttpMethod method, string path, string? key, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return request;
    }
}
