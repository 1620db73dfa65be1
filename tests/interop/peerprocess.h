// Shared by the interop tests: a peer process (a Python or Node script) whose output is read
// line by line, and which is killed when the test is done with it.
#pragma once

#include <QtCore/qlist.h>
#include <QtCore/qprocess.h>
#include <QtCore/qstring.h>

class PeerProcess
{
public:
    PeerProcess(const QString &program, const QStringList &arguments, const QString &workingDirectory = QString())
    {
        proc.setProgram(program);
        proc.setArguments(arguments);
        if (!workingDirectory.isEmpty())
            proc.setWorkingDirectory(workingDirectory);
        QObject::connect(&proc, &QProcess::readyReadStandardOutput, &proc, [this] { out += proc.readAllStandardOutput(); });
        QObject::connect(&proc, &QProcess::readyReadStandardError, &proc, [this] { err += proc.readAllStandardError(); });
        proc.start();
    }
    ~PeerProcess() { stop(); }
    PeerProcess(const PeerProcess &) = delete;
    PeerProcess &operator=(const PeerProcess &) = delete;

    void stop()
    {
        if (proc.state() != QProcess::NotRunning) {
            proc.kill();
            proc.waitForFinished(3000);
        }
    }
    bool finished() const { return proc.state() == QProcess::NotRunning; }
    bool succeeded() const { return finished() && proc.exitStatus() == QProcess::NormalExit && proc.exitCode() == 0; }

    // The output lines that are `word` or start with `word `, whole.
    QList<QByteArray> lines(const QByteArray &word)
    {
        out += proc.readAllStandardOutput();
        QList<QByteArray> found;
        for (const QByteArray &l : out.split('\n')) {
            if (l.trimmed() == word || l.startsWith(word + ' '))
                found.append(l);
        }
        return found;
    }
    // The first of them, or a null QByteArray.
    QByteArray line(const QByteArray &word)
    {
        const QList<QByteArray> found = lines(word);
        return found.isEmpty() ? QByteArray() : found.constFirst();
    }
    // What follows `word ` on the first of them, trimmed (empty if nothing does).
    QByteArray value(const QByteArray &word) { return line(word).mid(word.size() + 1).trimmed(); }
    bool has(const QByteArray &word) { return !lines(word).isEmpty(); }

    // Everything the peer said so far, for failure messages.
    QString output()
    {
        out += proc.readAllStandardOutput();
        err += proc.readAllStandardError();
        return QStringLiteral("\n--- %1 %2 (state %3, exit code %4)\n--- stdout:\n%5--- stderr:\n%6")
                .arg(proc.program(), proc.arguments().join(u' ')).arg(int(proc.state())).arg(proc.exitCode())
                .arg(QString::fromUtf8(out), QString::fromUtf8(err));
    }

    QProcess proc;
    QByteArray out;
    QByteArray err;
};

// A status line's fields after its word, "n1 n2 ... [reason]": the first `count` as numbers,
// the rest (which may contain spaces) as the reason.
struct PeerNumbers
{
    bool valid = false;
    QList<qint64> numbers;
    QString reason;
};

inline PeerNumbers parsePeerNumbers(const QByteArray &fields, int count)
{
    PeerNumbers c;
    const QList<QByteArray> parts = fields.split(' ');
    if (parts.size() < count)
        return c;
    for (int i = 0; i < count; ++i) {
        bool ok = false;
        c.numbers.append(parts.at(i).toLongLong(&ok));
        if (!ok)
            return c;
    }
    c.reason = QString::fromUtf8(parts.mid(count).join(' '));
    c.valid = true;
    return c;
}
