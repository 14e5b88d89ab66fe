using Microsoft.Extensions.Options;

namespace Mlops.Stream.Host.Options;

/// <summary>Section <c>Http</c>: where the HTTP API listens.</summary>
public sealed class HttpOptions
{
    public const string Section = "Http";

    /// <summary>Listening URL; port 0 picks a free port. ASP.NET Core's own <c>urls</c> setting, when given, wins.</summary>
    public string Url { get; set; } = "http://127.0.0.1:8080";
}

/// <summary>Checks <see cref="HttpOptions"/>; every message names the configuration key.</summary>
public sealed class HttpOptionsValidator : IValidateOptions<HttpOptions>
{
    public ValidateOptionsResult Validate(string? name, HttpOptions options) =>
        Uri.TryCreate(options.Url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(
                $"{HttpOptions.Section}:{nameof(HttpOptions.Url)} must be an absolute http or https URL such as http://127.0.0.1:8080 (found '{options.Url}').");
}
