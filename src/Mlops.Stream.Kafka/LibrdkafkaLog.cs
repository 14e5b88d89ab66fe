using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Mlops.Stream.Kafka;

/// <summary>
/// librdkafka's own log lines, through the node's logger instead of librdkafka's default of raw
/// <c>%3|...</c> lines on stderr (which broke JSON logs and, with the broker down, came about 45 a
/// second). Every Kafka client of the process sets <see cref="Write"/> as its log handler. A line of
/// a kind (facility and level, whatever the client) is written at most once per <see cref="Interval"/>;
/// the next one written says how many were left out, so an outage is a few lines a minute, not a flood.
/// Process-wide, like librdkafka's logging itself; until <see cref="UseLogger"/> is called lines go nowhere.
/// </summary>
public static class LibrdkafkaLog
{
    public const string Category = "Librdkafka";

    /// <summary>The least time between two lines of one kind.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    private sealed class Kind
    {
        public DateTimeOffset LastWritten = DateTimeOffset.MinValue;
        public int Suppressed;
    }

    // Keyed by facility and level only: a bounded set, however many clients come and go.
    private static readonly ConcurrentDictionary<(string Facility, SyslogLevel Level), Kind> Kinds = new();
    private static ILogger _logger = NullLogger.Instance;

    public static void UseLogger(ILoggerFactory loggers) => _logger = loggers.CreateLogger(Category);

    /// <summary>A log handler for any client builder: <c>.SetLogHandler((_, m) => LibrdkafkaLog.Write(m))</c>.</summary>
    public static void Write(LogMessage message) => Write(message, DateTimeOffset.UtcNow, _logger);

    /// <summary>Writes <paramref name="message"/> to <paramref name="logger"/> unless a line of its kind was written within <see cref="Interval"/> of <paramref name="now"/>.</summary>
    public static void Write(LogMessage message, DateTimeOffset now, ILogger logger)
    {
        var level = LevelOf(message.Level);
        if (!logger.IsEnabled(level)) return;
        var kind = Kinds.GetOrAdd((message.Facility, message.Level), _ => new Kind());
        int suppressed;
        lock (kind)
        {
            if (now - kind.LastWritten < Interval)
            {
                kind.Suppressed++;
                return;
            }
            kind.LastWritten = now;
            suppressed = kind.Suppressed;
            kind.Suppressed = 0;
        }
        logger.Log(level, "librdkafka {Client} {Facility}: {Message}{Suppressed}", message.Name, message.Facility, message.Message,
            suppressed == 0 ? "" : $" ({suppressed} more {message.Facility} line(s) left out in the last {Interval.TotalSeconds:0} s)");
    }

    /// <summary>
    /// librdkafka's errors are about connections it retries by itself (a broker down, a refused
    /// connection): the node copes with those, so they are warnings here; what breaks a stream is
    /// reported through the clients' error handlers.
    /// </summary>
    private static LogLevel LevelOf(SyslogLevel level) => level switch
    {
        <= SyslogLevel.Warning => LogLevel.Warning,
        SyslogLevel.Notice or SyslogLevel.Info => LogLevel.Information,
        _ => LogLevel.Debug,
    };
}
