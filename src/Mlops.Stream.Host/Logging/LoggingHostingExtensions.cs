using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using Mlops.Stream.Host.Options;

namespace Mlops.Stream.Host.Logging;

public static class LoggingHostingExtensions
{
    /// <summary>ISO 8601 in UTC, sortable and unambiguous across nodes.</summary>
    internal const string TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <summary>
    /// Console logs as one JSON object per line (timestamp, level, category, message, state and
    /// scopes such as the request id and the model) when stdout goes to a file, a pipe or a log
    /// collector, and as single plain-text lines when it is a terminal; <c>Logging:Format</c>
    /// (<c>auto</c>, <c>json</c>, <c>text</c>) overrides. An explicit
    /// <c>Logging:Console:FormatterName</c> (ASP.NET Core's own key) wins over both. Levels per
    /// category come from the standard <c>Logging:LogLevel</c> section.
    /// </summary>
    public static WebApplicationBuilder AddMlopsLogging(this WebApplicationBuilder builder)
    {
        var options = builder.Configuration.BindValidatedNow<LoggingOptions, LoggingOptionsValidator>(LoggingOptions.Section);
        var format = options.Resolve(Console.IsOutputRedirected);
        if (string.IsNullOrWhiteSpace(builder.Configuration["Logging:Console:FormatterName"]))
        {
            builder.Services.Configure<ConsoleLoggerOptions>(o =>
                o.FormatterName = format == LogFormat.Json ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple);
        }
        builder.Services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.TimestampFormat = TimestampFormat;
            o.UseUtcTimestamp = true;
        });
        builder.Services.Configure<SimpleConsoleFormatterOptions>(o =>
        {
            o.IncludeScopes = true;
            o.SingleLine = true;
            o.TimestampFormat = TimestampFormat + " ";
            o.UseUtcTimestamp = true;
        });
        return builder;
    }
}

/// <summary>How console log lines are written.</summary>
public enum LogFormat
{
    /// <summary>JSON when stdout is redirected, text on a terminal.</summary>
    Auto,

    /// <summary>One JSON object per line (ASP.NET Core's JSON console formatter, scopes included).</summary>
    Json,

    /// <summary>One plain line per entry (the simple console formatter, scopes included).</summary>
    Text,
}

/// <summary>The <c>Logging:Format</c> key; the rest of the <c>Logging</c> section is ASP.NET Core's.</summary>
public sealed class LoggingOptions
{
    public const string Section = "Logging";

    /// <summary><c>auto</c> (default), <c>json</c> or <c>text</c>.</summary>
    public string Format { get; set; } = "auto";

    /// <summary>The format to use: <see cref="LogFormat.Json"/> or <see cref="LogFormat.Text"/>, never Auto.</summary>
    public LogFormat Resolve(bool stdoutRedirected)
    {
        var format = Enum.Parse<LogFormat>(Format, ignoreCase: true);
        return format switch
        {
            LogFormat.Auto => stdoutRedirected ? LogFormat.Json : LogFormat.Text,
            _ => format,
        };
    }
}

public sealed class LoggingOptionsValidator : IValidateOptions<LoggingOptions>
{
    public ValidateOptionsResult Validate(string? name, LoggingOptions options) =>
        Enum.TryParse<LogFormat>(options.Format, ignoreCase: true, out var format) && Enum.IsDefined(format) && !int.TryParse(options.Format, out _)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"{LoggingOptions.Section}:{nameof(LoggingOptions.Format)} must be auto, json or text (found '{options.Format}').");
}
