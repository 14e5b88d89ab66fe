using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;
using Akka.Hosting;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Mlops.Stream.Host.Logging;

/// <summary>Hands the node's <see cref="ILoggerFactory"/> to <see cref="AkkaLogBridge"/>, which Akka creates itself.</summary>
public sealed class AkkaLogBridgeSetup(ILoggerFactory loggerFactory) : Akka.Actor.Setup.Setup
{
    public ILoggerFactory LoggerFactory { get; } = loggerFactory;
}

public static class AkkaLogBridgeExtensions
{
    /// <summary>Akka's logs go through the process's logging (<see cref="AkkaLogBridge"/>) and nowhere else.</summary>
    public static AkkaConfigurationBuilder WithLogBridge(this AkkaConfigurationBuilder akka, IServiceProvider services)
    {
        akka.AddSetup(new AkkaLogBridgeSetup(services.GetRequiredService<ILoggerFactory>()));
        return akka.ConfigureLoggers(loggers =>
        {
            loggers.ClearLoggers();
            loggers.AddLogger<AkkaLogBridge>();
        });
    }
}

/// <summary>
/// Akka's logger, writing through the node's logging like everything else: the category is the Akka
/// class that logged (e.g. <c>Akka.Remote.Remoting</c>), the level is Akka's own (an Akka error is
/// an error), the message is the event's text alone, and the Akka log source (actor path or
/// component) goes into a scope. Akka.Hosting's logger instead wrote every line under one
/// category with Akka's "[INFO][time][thread][source]" text inside the message.
/// </summary>
public sealed class AkkaLogBridge : ActorBase, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    private readonly ILoggerFactory _loggerFactory;
    private readonly Dictionary<string, ILogger> _loggers = [];

    public AkkaLogBridge()
    {
        var setup = Context.System.Settings.Setup.Get<AkkaLogBridgeSetup>();
        if (!setup.HasValue)
            throw new InvalidOperationException($"{nameof(AkkaLogBridge)} needs {nameof(AkkaLogBridgeSetup)} in the actor system's setup.");
        _loggerFactory = setup.Value.LoggerFactory;
    }

    protected override bool Receive(object message)
    {
        switch (message)
        {
            case InitializeLogger:
                Sender.Tell(new LoggerInitialized());
                return true;
            case LogEvent logEvent:
                Write(logEvent);
                return true;
            default:
                return false;
        }
    }

    private void Write(LogEvent logEvent)
    {
        var category = CategoryOf(logEvent);
        if (!_loggers.TryGetValue(category, out var logger))
        {
            logger = _loggerFactory.CreateLogger(category);
            _loggers[category] = logger;
        }
        var level = LevelOf(logEvent.LogLevel());
        if (!logger.IsEnabled(level)) return;
        using (logger.BeginScope(new AkkaSourceScope(logEvent.LogSource)))
        {
            logger.Log(level, logEvent.Cause, "{Message}", TextOf(logEvent.Message));
        }
    }

    /// <summary>
    /// The class that logged (<c>Akka.Cluster.Sharding.ShardRegion</c>); for Akka's components that log
    /// under a name instead of a class (<c>remoting (akka://mlops)</c>), <c>Akka.</c> and that name.
    /// </summary>
    private static string CategoryOf(LogEvent logEvent)
    {
        if (logEvent.LogClass != typeof(DummyClassForStringSources))
            return logEvent.LogClass.FullName ?? logEvent.LogClass.Name;
        var name = logEvent.LogSource;
        var end = name.IndexOfAny([' ', '(', '[']);
        return "Akka." + (end > 0 ? name[..end] : name);
    }

    /// <summary>The Akka log source (actor path or component) as a log scope: <c>AkkaSource</c>.</summary>
    private sealed class AkkaSourceScope(string source) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?> _entry = new("AkkaSource", source);

        public KeyValuePair<string, object?> this[int index] => index == 0 ? _entry : throw new ArgumentOutOfRangeException(nameof(index));

        public int Count => 1;

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
        {
            yield return _entry;
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => $"AkkaSource:{source}";
    }

    private static string TextOf(object message)
    {
        try
        {
            return (message is LogMessage formatted ? formatted.ToString() : message?.ToString()) ?? "";
        }
        catch (FormatException e)
        {
            // A bad format string in someone's log call must not lose the line, nor stop the logger.
            return $"(log message could not be formatted: {e.Message}) {message}";
        }
    }

    private static LogLevel LevelOf(Akka.Event.LogLevel level) => level switch
    {
        Akka.Event.LogLevel.DebugLevel => LogLevel.Debug,
        Akka.Event.LogLevel.InfoLevel => LogLevel.Information,
        Akka.Event.LogLevel.WarningLevel => LogLevel.Warning,
        _ => LogLevel.Error,
    };
}
