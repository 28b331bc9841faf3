namespace IshChat.Migrate;

/// <summary>A failure the user can act on: its message says what happened and what to do; the code is the exit status.</summary>
public sealed class MigrationException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}

/// <summary>Exit statuses, so scripts can tell "data differ" from "could not run".</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Mismatch = 1;
    public const int BadInput = 2;
    public const int Database = 3;
    public const int DiskFull = 4;
}
