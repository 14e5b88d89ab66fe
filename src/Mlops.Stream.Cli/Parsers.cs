using System.CommandLine.Parsing;
using System.Globalization;

namespace Mlops.Stream.Cli;

/// <summary>
/// Number parsers for arguments and options that check their range in the same step. A validator
/// alone is not enough: System.CommandLine runs validators on values that failed to convert, and
/// reading such a value throws instead of reporting a usage error.
/// </summary>
internal static class Parsers
{
    public static Func<ArgumentResult, int> PositiveInt(string what) => result =>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= 1) return value;
        result.AddError($"{what} must be a positive integer (got '{text}')");
        return 0;
    };

    public static Func<ArgumentResult, int?> IntBetween(string what, int min, int max) => result =>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max) return value;
        result.AddError($"{what} must be an integer from {min} to {max} (got '{text}')");
        return null;
    };

    /// <summary>A finite number in [<paramref name="min"/>, <paramref name="max"/>] (<c>exclusiveMin</c>: above min).</summary>
    public static Func<ArgumentResult, double> Number(string what, double min, double max, bool exclusiveMin = false, string? hint = null) => result =>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            && double.IsFinite(value) && (exclusiveMin ? value > min : value >= min) && value <= max)
            return value;
        var range = exclusiveMin ? $"greater than {Show(min)}" : $"from {Show(min)}";
        result.AddError($"{what} must be a number {range} to {Show(max)} (got '{text}'){hint}");
        return 0;
    };

    /// <summary>
    /// A duration in seconds within [<paramref name="min"/>, <paramref name="max"/>] (<c>exclusiveMin</c>: above min):
    /// a plain number of seconds, or a number with a unit, <c>ms</c>, <c>s</c> or <c>m</c> (<c>500ms</c>, <c>60s</c>, <c>1.5m</c>).
    /// </summary>
    public static Func<ArgumentResult, double> Seconds(string what, double min, double max, bool exclusiveMin = false) => result =>
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : "";
        if (TryParseSeconds(text, out var value) && double.IsFinite(value) && (exclusiveMin ? value > min : value >= min) && value <= max)
            return value;
        var range = exclusiveMin ? $"greater than {Show(min)}" : $"from {Show(min)}";
        result.AddError($"{what} must be a duration {range} to {Show(max)} s, in seconds or with a unit: 500ms, 60s, 2m (got '{text}')");
        return 0;
    };

    private static bool TryParseSeconds(string text, out double seconds)
    {
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1.0),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60.0),
            _ => (text, 1.0),
        };
        var parsed = double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out seconds);
        seconds *= scale;
        return parsed;
    }

    private static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);
}
