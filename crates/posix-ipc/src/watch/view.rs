//! The full-screen view: the objects on top (what changed in the last moment
//! highlighted and marked `*`), the event log below, keys at the bottom.
//!
//! The terminal is put back (raw mode off, main screen, cursor shown) however the
//! view ends: `q`, Ctrl+C (a key in raw mode), SIGINT, SIGTERM or SIGHUP (the
//! loop sees the request within one poll), an error, or a panic (the panic hook
//! restores it before the message is printed, so the message is readable).

use std::collections::{HashMap, VecDeque};
use std::io::Stdout;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{
    self, Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers,
};
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Modifier, Style, Stylize};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, Wrap};
use ratatui::{Frame, Terminal};

use super::events::describe;
use super::model::{diff, initial, Event, Session, Snapshot, What};
use super::Stop;
use crate::columns::detail;
use crate::failure::Failure;
use crate::inventory::Object;
use crate::render::{escape_name, holders_cell};
use ipc_core::ObjectKind;

/// How long a changed row stays highlighted: long enough for an eye to catch it.
const HIGHLIGHT: Duration = Duration::from_millis(1500);

/// Events kept for the log.
const LOG_LINES: usize = 1000;

/// Whether the terminal is in raw mode on the alternate screen (so that restoring
/// twice, from the guard and from the panic hook, does it once).
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Puts the terminal back: raw mode off, main screen, cursor shown. Errors are
/// ignored: there is nothing better to do with them (the terminal may be gone).
fn restore() {
    if ENTERED.swap(false, Ordering::SeqCst) {
        let _ = terminal::disable_raw_mode();
        let _ = execute!(
            std::io::stdout(),
            terminal::LeaveAlternateScreen,
            cursor::Show
        );
    }
}

/// The terminal in full-screen mode; put back when dropped.
struct Screen {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Screen {
    fn enter() -> std::io::Result<Screen> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        ENTERED.store(true, Ordering::SeqCst);
        let entered = terminal::enable_raw_mode().and_then(|()| {
            execute!(
                std::io::stdout(),
                terminal::EnterAlternateScreen,
                cursor::Hide
            )
        });
        let terminal =
            entered.and_then(|()| Terminal::new(CrosstermBackend::new(std::io::stdout())));
        match terminal {
            Ok(terminal) => Ok(Screen { terminal }),
            Err(e) => {
                restore();
                Err(e)
            }
        }
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

/// The terminal's input, watched before crossterm reads it: crossterm 0.28 reads
/// in a loop that never ends once the terminal has hung up (every read returns
/// 0), so the view asks `poll` first and ends when the terminal is gone.
struct TerminalInput {
    /// `/dev/tty`, when stdin is not the terminal (crossterm reads it then).
    tty: Option<std::fs::File>,
}

/// What the terminal's input has.
enum Input {
    /// Nothing within the wait.
    Quiet,
    /// Bytes to read.
    Ready,
    /// The terminal hung up (or is no longer one).
    Gone,
}

impl TerminalInput {
    fn open() -> std::io::Result<TerminalInput> {
        use std::io::IsTerminal;
        let tty = if std::io::stdin().is_terminal() {
            None
        } else {
            Some(std::fs::File::open("/dev/tty")?)
        };
        Ok(TerminalInput { tty })
    }

    fn wait(&self, timeout: Duration) -> Input {
        use std::os::fd::AsRawFd;
        let fd = self
            .tty
            .as_ref()
            .map_or(libc::STDIN_FILENO, |f| f.as_raw_fd());
        let mut pollfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = libc::c_int::try_from(timeout.as_millis()).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd that outlives the call, and the count says one.
        match unsafe { libc::poll(&mut pollfd, 1, ms) } {
            0 => Input::Quiet,
            n if n < 0 => Input::Quiet, // EINTR: a signal; the caller looks at it
            _ if pollfd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 => {
                Input::Gone
            }
            _ => Input::Ready,
        }
    }
}

/// What the screen shows besides the snapshot.
#[derive(Default)]
struct View {
    log: VecDeque<Event>,
    changed: HashMap<(ObjectKind, Box<[u8]>), Instant>,
    paused: bool,
    filter: String,
    editing: bool,
}

/// What a key asks for.
#[derive(PartialEq, Eq)]
enum Asked {
    Nothing,
    Quit,
}

impl View {
    fn record(&mut self, events: Vec<Event>, mark: bool) {
        let now = Instant::now();
        for event in events {
            if mark {
                self.changed
                    .insert((event.object.kind, event.object.raw.clone()), now);
            }
            if self.log.len() == LOG_LINES {
                self.log.pop_front();
            }
            self.log.push_back(event);
        }
        self.changed.retain(|_, at| at.elapsed() < HIGHLIGHT);
    }

    fn key(&mut self, key: KeyEvent) -> Asked {
        if key.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C'))
        {
            return Asked::Quit;
        }
        if self.editing {
            match key.code {
                KeyCode::Enter => self.editing = false,
                KeyCode::Esc => {
                    self.editing = false;
                    self.filter.clear();
                }
                KeyCode::Backspace => {
                    self.filter.pop();
                }
                KeyCode::Char(c) => self.filter.push(c),
                _ => {}
            }
            return Asked::Nothing;
        }
        match key.code {
            KeyCode::Char('q') | KeyCode::Char('Q') => return Asked::Quit,
            KeyCode::Char(' ') => self.paused = !self.paused,
            KeyCode::Char('/') => {
                self.editing = true;
                self.filter.clear();
            }
            KeyCode::Esc => self.filter.clear(),
            _ => {}
        }
        Asked::Nothing
    }

    /// Whether the filter keeps this object (its name as shown contains it).
    fn shows(&self, object: &Object) -> bool {
        self.filter.is_empty() || object.shown_name().contains(&self.filter)
    }

    fn draw(&self, frame: &mut Frame, now: &Snapshot) {
        let objects: Vec<&Object> = now.objects.iter().filter(|o| self.shows(o)).collect();
        let mut notes: Vec<Line> = Vec::new();
        if let Some(why) = &now.queues_unavailable {
            notes.push(Line::from(format!("message queues not listed: {why}")).yellow());
        }
        if !now.blind_spots.is_empty() {
            notes.push(
                Line::from(format!(
                    "holders may be missing (where none is seen, the kernel says whether any process holds it): {}",
                    now.blind_spots
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                ))
                .yellow(),
            );
        }
        let table_height = (objects.len() as u16 + 3).max(4);
        let [title, table_area, notes_area, log_area, help] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Max(table_height),
            Constraint::Length(notes.len() as u16 * 2),
            Constraint::Min(4),
            Constraint::Length(1),
        ])
        .areas(frame.area());

        let mut heading = format!(
            " posix-ipc watch   {} object{}   refresh {:.1} ms ({} processes, {} read)",
            objects.len(),
            if objects.len() == 1 { "" } else { "s" },
            now.cost.as_secs_f64() * 1000.0,
            now.scan.processes,
            now.scan.read,
        );
        if self.paused {
            heading.push_str("   PAUSED");
        }
        if self.editing || !self.filter.is_empty() {
            heading.push_str(&format!(
                "   filter: {}",
                escape_name(self.filter.as_bytes())
            ));
            if self.editing {
                heading.push('_');
            }
        }
        frame.render_widget(Paragraph::new(heading).reversed(), title);

        // As wide as the longest owner's name (never cut short), within reason.
        let owner_width = objects
            .iter()
            .map(|o| escape_name(o.owner.as_bytes()).chars().count())
            .max()
            .unwrap_or(0)
            .clamp(5, 32) as u16;
        let rows = objects.iter().map(|o| {
            let fresh = self
                .changed
                .get(&(o.kind, o.raw.clone()))
                .is_some_and(|at| at.elapsed() < HIGHLIGHT);
            let mut shown = detail(o, false);
            for odd in &o.odd {
                shown.push_str(&format!(" [{odd}]"));
            }
            let orphan = match o.orphan {
                Some(true) => "yes",
                Some(false) => "no",
                None => "unknown",
            };
            let holders = if o.unseen_holder {
                "unseen".to_owned()
            } else if o.holders.is_empty() {
                "-".to_owned()
            } else {
                holders_cell(o)
            };
            let row = Row::new([
                if fresh { "*" } else { " " }.to_owned(),
                o.kind.label().to_owned(),
                o.shown_name(),
                shown,
                format!("{:04o}", o.mode),
                escape_name(o.owner.as_bytes()),
                orphan.to_owned(),
                holders,
            ]);
            if fresh {
                row.style(Style::new().add_modifier(Modifier::BOLD).yellow())
            } else {
                row
            }
        });
        let table = Table::new(
            rows,
            [
                Constraint::Length(1),
                Constraint::Length(4),
                Constraint::Min(16),
                Constraint::Min(18),
                Constraint::Length(4),
                Constraint::Length(owner_width),
                Constraint::Length(7),
                Constraint::Fill(2),
            ],
        )
        .header(
            Row::new([
                "",
                "TYPE",
                "NAME",
                "SIZE/VALUE/DEPTH",
                "MODE",
                "OWNER",
                "ORPHAN",
                "HOLDERS",
            ])
            .bold(),
        )
        .block(Block::bordered().title(" objects "));
        frame.render_widget(table, table_area);

        frame.render_widget(Paragraph::new(notes).wrap(Wrap { trim: true }), notes_area);

        let lines_fit = log_area.height.saturating_sub(2) as usize;
        let shown: Vec<&Event> = self.log.iter().filter(|e| self.shows(&e.object)).collect();
        let log: Vec<Line> = shown[shown.len().saturating_sub(lines_fit)..]
            .iter()
            .map(|e| {
                let time = super::events::timestamp(e.time);
                let line = Line::from(format!("{} {}", &time[11..23], describe(e)));
                match e.what {
                    What::Created | What::Opened(_) => line.green(),
                    What::Unlinked | What::Exited(_) | What::Closed(_) => line.red(),
                    What::Exists => line,
                    _ => line.cyan(),
                }
            })
            .collect();
        frame.render_widget(
            Paragraph::new(log).block(Block::bordered().title(" events ")),
            log_area,
        );
        frame.render_widget(
            Paragraph::new(" q quit   space pause   / filter (Enter keep, Esc clear)").dim(),
            help,
        );
    }
}

/// Runs the view until `q`, Ctrl+C or a termination signal.
pub fn run(session: &mut Session, period: Duration, stop: &Stop) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure::Other(format!("terminal: {e}"));
    let input = TerminalInput::open().map_err(fail)?;
    let mut screen = Screen::enter().map_err(fail)?;
    let mut view = View::default();
    let mut now = session.refresh(None);
    view.record(initial(&now), false);
    let mut next = Instant::now() + period;
    while !stop.requested() {
        screen
            .terminal
            .draw(|frame| view.draw(frame, &now))
            .map_err(fail)?;
        // Keys until the next refresh, looking at the stop request at least
        // every 50 ms.
        let wait = next
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(50));
        match input.wait(wait) {
            Input::Gone => break,
            Input::Quiet => {}
            Input::Ready => {
                if event::poll(Duration::ZERO).map_err(fail)? {
                    if let TermEvent::Key(key) = event::read().map_err(fail)? {
                        if key.kind == KeyEventKind::Press && view.key(key) == Asked::Quit {
                            break;
                        }
                    }
                }
            }
        }
        if Instant::now() >= next {
            next = super::next_tick(next, period);
            if !view.paused {
                let later = session.refresh(Some(&now));
                view.record(diff(&now, &later), true);
                now = later;
            } else {
                view.record(Vec::new(), false);
            }
        }
    }
    drop(screen);
    Ok(())
}
