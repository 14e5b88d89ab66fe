using Microsoft.Extensions.Options;
using Mlops.Stream.Host.Listening;

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
        ListenUrl.TryParse(options.Url, out _, out var problem)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{HttpOptions.Section}:{nameof(HttpOptions.Url)} {problem}.");
}
