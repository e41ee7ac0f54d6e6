// The audio element's state for the screen: current time (from timeupdate, and every animation
// frame while playing so the highlighted word keeps up), playing, speed; and the keyboard
// shortcuts (space, ←/→), ignored while typing in a field or on a control that uses them.
import { useCallback, useEffect, useRef, useState } from 'react';

export interface Player {
  ref: React.RefObject<HTMLAudioElement>;
  time: number;
  duration: number;
  playing: boolean;
  rate: number;
  toggle: () => void;
  seek: (t: number, play?: boolean) => void;
  skip: (delta: number) => void;
  setRate: (r: number) => void;
}

function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag === 'INPUT') {
    const type = (target as HTMLInputElement).type;
    return !['checkbox', 'button', 'submit', 'reset'].includes(type);
  }
  return ['slider', 'combobox', 'radio', 'textbox'].includes(target.getAttribute('role') ?? '');
}

export function usePlayer(fallbackDuration: number): Player {
  const ref = useRef<HTMLAudioElement>(null);
  const [time, setTime] = useState(0);
  const [duration, setDuration] = useState(fallbackDuration);
  const [playing, setPlaying] = useState(false);
  const [rate, setRateState] = useState(1);

  useEffect(() => {
    const a = ref.current;
    if (!a) return;
    let frame = 0;
    const tick = () => {
      setTime(a.currentTime);
      if (!a.paused) frame = requestAnimationFrame(tick);
    };
    const onTime = () => setTime(a.currentTime);
    const onPlay = () => {
      setPlaying(true);
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(tick);
    };
    const onPause = () => {
      setPlaying(false);
      cancelAnimationFrame(frame);
      setTime(a.currentTime);
    };
    const onMeta = () => {
      if (Number.isFinite(a.duration) && a.duration > 0) setDuration(a.duration);
    };
    a.addEventListener('timeupdate', onTime);
    a.addEventListener('seeked', onTime);
    a.addEventListener('play', onPlay);
    a.addEventListener('pause', onPause);
    a.addEventListener('ended', onPause);
    a.addEventListener('loadedmetadata', onMeta);
    a.addEventListener('durationchange', onMeta);
    return () => {
      cancelAnimationFrame(frame);
      a.removeEventListener('timeupdate', onTime);
      a.removeEventListener('seeked', onTime);
      a.removeEventListener('play', onPlay);
      a.removeEventListener('pause', onPause);
      a.removeEventListener('ended', onPause);
      a.removeEventListener('loadedmetadata', onMeta);
      a.removeEventListener('durationchange', onMeta);
    };
  }, []);

  const toggle = useCallback(() => {
    const a = ref.current;
    if (!a) return;
    if (a.paused) void a.play().catch(() => undefined);
    else a.pause();
  }, []);

  const seek = useCallback((t: number, play = false) => {
    const a = ref.current;
    if (!a) return;
    const end = Number.isFinite(a.duration) && a.duration > 0 ? a.duration : Infinity;
    a.currentTime = Math.max(0, Math.min(t, end));
    setTime(a.currentTime);
    if (play && a.paused) void a.play().catch(() => undefined);
  }, []);

  const skip = useCallback((delta: number) => {
    const a = ref.current;
    if (a) seek(a.currentTime + delta);
  }, [seek]);

  const setRate = useCallback((r: number) => {
    if (ref.current) ref.current.playbackRate = r;
    setRateState(r);
  }, []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || typingIn(e.target)) return;
      const onButton = e.target instanceof HTMLElement && (e.target.tagName === 'BUTTON' || e.target.tagName === 'A');
      if (e.code === 'Space' && !onButton) {
        e.preventDefault();
        toggle();
      } else if (e.key === 'ArrowLeft') {
        e.preventDefault();
        skip(-5);
      } else if (e.key === 'ArrowRight') {
        e.preventDefault();
        skip(5);
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, [toggle, skip]);

  return { ref, time, duration, playing, rate, toggle, seek, skip, setRate };
}
